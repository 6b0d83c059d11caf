using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NativeAot;

/// <summary>
/// A token endpoint and an API on 127.0.0.1, on a port the system picks, in plain HTTP/1.1 over a socket: nothing
/// here needs reflection, so the sample's AOT warnings are TokenClient's alone. POST /token issues a token for
/// the right client credentials (form-encoded, as RFC 6749 says); GET /api/hello answers 200 for a valid token
/// and 401 otherwise.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    public const string ClientId = "aot-client";
    public const string ClientSecret = "aot-secret";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _valid = [];
    private readonly Task _accepting;
    private int _issued;

    public LoopbackServer()
    {
        _listener.Start();
        BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri BaseAddress { get; }

    public int TokensIssued => Volatile.Read(ref _issued);

    /// <summary>Every token issued so far is refused by the API from now on.</summary>
    public void RevokeAll()
    {
        lock (_valid)
        {
            _valid.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient connection;
            try
            {
                connection = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(TcpClient connection)
    {
        using (connection)
        {
            var stream = connection.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            try
            {
                while (await reader.ReadLineAsync(_stop.Token) is { Length: > 0 } requestLine)
                {
                    var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    while (await reader.ReadLineAsync(_stop.Token) is { Length: > 0 } line)
                    {
                        var colon = line.IndexOf(':', StringComparison.Ordinal);
                        headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }

                    var body = new char[headers.TryGetValue("Content-Length", out var length) ? int.Parse(length) : 0];
                    if (body.Length > 0)
                    {
                        await reader.ReadBlockAsync(body, _stop.Token); // an empty read would wait for the next request
                    }
                    var (status, contentType, content) = Answer(requestLine, headers, new string(body));
                    var bytes = Encoding.UTF8.GetBytes(content);
                    var head = $"HTTP/1.1 {status} {(status == 200 ? "OK" : "Error")}\r\nContent-Type: {contentType}\r\nContent-Length: {bytes.Length}\r\n\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
                    await stream.WriteAsync(bytes, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
                // The client closed the connection, or the server stops.
            }
        }
    }

    private (int Status, string ContentType, string Content) Answer(string requestLine, Dictionary<string, string> headers, string body)
    {
        if (requestLine.StartsWith("POST /token ", StringComparison.Ordinal))
        {
            var form = body.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");
            var (id, secret) = headers.TryGetValue("Authorization", out var basic) && basic.StartsWith("Basic ", StringComparison.Ordinal)
                ? Split(Encoding.UTF8.GetString(Convert.FromBase64String(basic["Basic ".Length..])))
                : (form.GetValueOrDefault("client_id"), form.GetValueOrDefault("client_secret"));
            if (form.GetValueOrDefault("grant_type") != "client_credentials" || id != ClientId || secret != ClientSecret)
            {
                return (401, "application/json", """{"error":"invalid_client"}""");
            }

            var token = $"aot-{Interlocked.Increment(ref _issued)}-{Guid.NewGuid():N}";
            lock (_valid)
            {
                _valid.Add(token);
            }

            return (200, "application/json", $$"""{"access_token":"{{token}}","token_type":"Bearer","expires_in":3600}""");
        }

        if (requestLine.StartsWith("GET /api/hello ", StringComparison.Ordinal))
        {
            var bearer = headers.GetValueOrDefault("Authorization") is { } value && value.StartsWith("Bearer ", StringComparison.Ordinal) ? value["Bearer ".Length..] : null;
            lock (_valid)
            {
                return bearer is not null && _valid.Contains(bearer) ? (200, "text/plain", "hello from the API") : (401, "text/plain", "");
            }
        }

        return (404, "text/plain", "");

        static (string?, string?) Split(string pair) => pair.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0
            ? (Uri.UnescapeDataString(pair[..colon]), Uri.UnescapeDataString(pair[(colon + 1)..]))
            : (null, null);
    }
}
