using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using TokenClient;
using TokenClient.Benchmarks;

// dotnet run -c Release --project bench/TokenClient.Stampede [-- callers...]
// Cold callers: every caller asks for the token at the same moment, with nothing cached, against an in-process token endpoint
// that answers after 50 ms. How many token requests reach it, and how long until every caller has its token: the median of
// 5 runs, each on a new client.
//
// dotnet run -c Release --project bench/TokenClient.Stampede -- --blocking 64 TokenClient|SemaphoreSlim [--min-threads]
// Blocking callers: that many thread-pool work items each block on the token (GetAwaiter().GetResult(), sync over async) at
// a cold start; the time until all have it. One measurement per process, since the pool keeps the threads it injected;
// --min-threads raises the pool's minimum above the callers first.
if (args is ["--blocking", var count, var which, ..])
{
    await Blocking.RunAsync(int.Parse(count, CultureInfo.InvariantCulture), which, args.Contains("--min-threads")).ConfigureAwait(false);
    return;
}

var callerCounts = args.Length > 0 ? args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [1_000, 10_000];
const int Runs = 5;
var latency = TimeSpan.FromMilliseconds(50);

var contenders = new (string Name, Func<TokenEndpoint, (Func<Task<string>> Get, IDisposable? Owner)> Create)[]
{
    ("TokenClient", endpoint =>
    {
        var services = new ServiceCollection();
        services.AddApiTokenClient(endpoint);
        var container = services.BuildServiceProvider();
        var client = container.GetRequiredKeyedService<ITokenClient>("api");
        return (async () => (await client.GetTokenAsync().ConfigureAwait(false)).Value, container);
    }),
    ("MSAL.NET 4.92.0", endpoint =>
    {
        var msal = PeerSetup.Msal(endpoint);
        return (async () => (await msal.AcquireTokenForClient(PeerSetup.Scopes).ExecuteAsync().ConfigureAwait(false)).AccessToken, null);
    }),
    ("IMemoryCache.GetOrCreateAsync", endpoint =>
    {
        var cache = new MemoryCache(new MemoryCacheOptions());
        var http = new HttpClient(endpoint, disposeHandler: false);
        return (async () => (await cache.GetOrCreateAsync("token", async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1);
            return await HandRolled.RequestAsync(http).ConfigureAwait(false);
        }).ConfigureAwait(false))!, cache);
    }),
    ("SemaphoreSlim, double-checked", endpoint =>
    {
        var gate = new SemaphoreSlim(1, 1);
        var http = new HttpClient(endpoint, disposeHandler: false);
        string? token = null;
        return (async () =>
        {
            if (Volatile.Read(ref token) is { } cached)
            {
                return cached;
            }

            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                return token ??= await HandRolled.RequestAsync(http).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }, gate);
    }),
};

Console.WriteLine($"Cold callers against a token endpoint with {latency.TotalMilliseconds:F0} ms latency; median of {Runs} runs ({Environment.ProcessorCount} cores, .NET {Environment.Version}).");
Console.WriteLine();
Console.WriteLine("| callers | client | token requests (median) | token requests (min–max) | all callers done (median) |");
Console.WriteLine("|---:|---|---:|---:|---:|");
foreach (var callers in callerCounts)
{
    foreach (var (name, create) in contenders)
    {
        var requests = new List<int>();
        var times = new List<double>();
        for (var run = 0; run < Runs; run++)
        {
            var endpoint = new TokenEndpoint { Latency = latency };
            var (get, owner) = create(endpoint);
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
            {
                await start.Task.ConfigureAwait(false);
                return await get().ConfigureAwait(false);
            })).ToArray();
            var clock = Stopwatch.StartNew();
            start.SetResult();
            var tokens = await Task.WhenAll(tasks).ConfigureAwait(false);
            times.Add(clock.Elapsed.TotalMilliseconds);
            requests.Add(endpoint.Requests);
            if (tokens.Any(t => t != "token"))
            {
                throw new InvalidOperationException($"{name}: a caller got no token");
            }

            owner?.Dispose();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {callers:N0} | {name} | {Median(requests.Select(r => (double)r)):N0} | {requests.Min():N0}–{requests.Max():N0} | {Median(times):N0} ms |"));
    }
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}


internal static class Blocking
{
    public static async Task RunAsync(int callers, string which, bool raiseMinimum)
    {
        if (raiseMinimum)
        {
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers, callers + Environment.ProcessorCount), io);
        }

        var endpoint = new TokenEndpoint { Latency = TimeSpan.FromMilliseconds(50) };
        Func<string> get;
        IDisposable owner;
        if (which == "TokenClient")
        {
            var services = new ServiceCollection();
            services.AddApiTokenClient(endpoint);
            var container = services.BuildServiceProvider();
            var client = container.GetRequiredKeyedService<ITokenClient>("api");
            get = () => client.GetTokenAsync().AsTask().GetAwaiter().GetResult().Value;
            owner = container;
        }
        else
        {
            var gate = new SemaphoreSlim(1, 1);
            var http = new HttpClient(endpoint, disposeHandler: false);
            string? token = null;
            get = () =>
            {
                gate.Wait();
                try
                {
                    return token ??= HandRolled.RequestAsync(http).GetAwaiter().GetResult();
                }
                finally
                {
                    gate.Release();
                }
            };
            owner = gate;
        }

        var start = new ManualResetEventSlim();
        var clock = new Stopwatch();
        var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(() =>
        {
            start.Wait();
            return get();
        })).ToArray();
        clock.Start();
        start.Set();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        clock.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{callers} blocking callers, {which}{(raiseMinimum ? ", pool minimum raised" : "")}: all done in {clock.Elapsed.TotalMilliseconds:N0} ms, {endpoint.Requests} token request(s) ({Environment.ProcessorCount} cores, .NET {Environment.Version})"));
        owner.Dispose();
    }
}

/// <summary>What the hand-rolled caches do on a miss.</summary>
internal static class HandRolled
{
    /// <summary>One token request of the hand-rolled caches, without TokenClient.</summary>
    public static async Task<string> RequestAsync(HttpClient http)
    {
        using var response = await http.PostAsync("https://auth.test/token", new FormUrlEncodedContent([new("grant_type", "client_credentials")])).ConfigureAwait(false);
        var json = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        return System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("access_token").GetString()!;
    }
}
