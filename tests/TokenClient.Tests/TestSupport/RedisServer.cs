using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TokenClient.Tests.TestSupport;

/// <summary>
/// A real redis-server on 127.0.0.1 for the tests of the shared cache: the one .ci/run started (its address in
/// TOKENCLIENT_TEST_REDIS), or one of the test's own, on a free port, stopped when disposed. Tests that kill
/// Redis always start their own.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    public const string AddressVariable = "TOKENCLIENT_TEST_REDIS";

    private const string Watchdog = "/usr/bin/timeout";

    private Process? _process;

    private RedisServer(int port, Process? process)
    {
        Port = port;
        _process = process;
    }

    /// <summary>The redis-server executable on PATH, or null.</summary>
    public static string? Executable { get; } = FindExecutable();

    /// <summary>Why the tests that need Redis are skipped, or null when they can run.</summary>
    public static string? SkipReason =>
        Environment.GetEnvironmentVariable(AddressVariable) is { Length: > 0 } || Executable is not null
            ? null
            : "redis-server is not installed here (apt-get install redis-server; .ci/run installs it and starts one)";

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>The server .ci/run started, else one of the test's own.</summary>
    public static Task<RedisServer> SharedOrOwnAsync() =>
        Environment.GetEnvironmentVariable(AddressVariable) is { Length: > 0 } address
            ? Task.FromResult(new RedisServer(int.Parse(address[(address.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture), process: null))
            : StartOwnAsync();

    /// <summary>A server of the test's own, which it may kill and start again.</summary>
    public static async Task<RedisServer> StartOwnAsync()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var server = new RedisServer(port, process: null);
        await server.StartAsync();
        return server;
    }

    /// <summary>Kills the server at once, as a crash would.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException("Only a server the test started can be killed.");
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        _process = null;
    }

    /// <summary>Starts the server (again) on its port, with nothing in it.</summary>
    public async Task StartAsync()
    {
        var executable = Executable ?? throw new InvalidOperationException(SkipReason);

        // Under coreutils' timeout where there is one: a test host killed outright (a mutation run's timeout)
        // cannot stop its server, and the server then stops by itself after 15 minutes.
        var start = new ProcessStartInfo(File.Exists(Watchdog) ? Watchdog : executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (File.Exists(Watchdog))
        {
            foreach (var argument in new[] { "--signal=KILL", "900", executable })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilReadyAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await KillAsync();
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes("PING\r\n"));
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(20) && _process is { HasExited: false })
            {
            }

            if (deadline.Elapsed >= TimeSpan.FromSeconds(20) || _process is not { HasExited: false })
            {
                throw new InvalidOperationException($"redis-server did not answer on 127.0.0.1:{Port}.");
            }

            await Task.Delay(50);
        }
    }

    private static string? FindExecutable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);
}

/// <summary>The redis-server of a test class (see <see cref="RedisServer.SharedOrOwnAsync"/>); none where the tests are skipped.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    internal RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (RedisServer.SkipReason is null)
        {
            Server = await RedisServer.SharedOrOwnAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary>A test that needs redis-server: skipped, saying why, where there is none.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute() => Skip = RedisServer.SkipReason;
}
