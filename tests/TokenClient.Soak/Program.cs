// The soak: many callers through AddTokenHandler for a minute against a token endpoint on 127.0.0.1
// that fails a fifth of its answers (500, no answer, garbage, truncated JSON) and issues 5-second tokens.
// The callers spread their requests over a few tenants (request.WithTokenTenant), each its own cache
// entry, so that the token endpoint sees several renewals, and so several faults, every few seconds.
//
//   dotnet run -c Release --project tests/TokenClient.Soak [-- --seconds 60 --callers 64 --tenants 8 --fault-rate 0.2]
//
// The endpoint never fails more answers in a row for one tenant than the client retries (MaxRetries),
// so every acquisition can succeed: any failed API call is the library's fault. It exits with 1 if a
// call failed or the heap grew past its bound.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenClient;

var seconds = Arg("--seconds", 60);
var callers = (int)Arg("--callers", 64);
var tenants = (int)Arg("--tenants", 8);
var faultRate = Arg("--fault-rate", 0.2);
const int MaxRetries = 3;
const int TokenLifetimeSeconds = 5;
const long HeapGrowthBound = 32 * 1024 * 1024;

var endpoint = new FaultyEndpoint(faultRate, MaxRetries, TokenLifetimeSeconds);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapPost("/token", endpoint.IssueAsync);
app.MapGet("/api", endpoint.Serve);
app.Urls.Add("http://127.0.0.1:0");
await app.StartAsync();
var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

var services = new ServiceCollection();
services.AddTokenClient("soak", o =>
{
    // Login 3.0's form carries the tenant (organization), so the endpoint can tell whose acquisition each request is.
    o.Provider = "Login3";
    o.Audience = "https://api.soak.test";
    o.TokenEndpoint = new Uri(address, "/token");
    o.ClientId = "soak-client";
    o.ClientSecret = "soak-secret";
    o.MaxRetries = MaxRetries;
    o.RetryDelay = TimeSpan.FromMilliseconds(20);
    o.AttemptTimeout = TimeSpan.FromMilliseconds(250);
    o.TotalTimeout = TimeSpan.FromSeconds(5);
    // FailureCooldown stays at its default (5 s), as a user's would.
});
services.AddHttpClient("api", c => c.BaseAddress = address).AddTokenHandler("soak");
await using var provider = services.BuildServiceProvider();
var http = provider.GetRequiredService<IHttpClientFactory>();

var calls = 0L;
var failed = 0L;
var failures = new ConcurrentQueue<string>(); // the first few, as samples: keeping them all would weigh on the heap measured
void Fail(string what)
{
    if (Interlocked.Increment(ref failed) <= 10)
    {
        failures.Enqueue(what);
    }
}

long heapBefore = 0;
var clock = Stopwatch.StartNew();
var warmUp = TimeSpan.FromSeconds(Math.Min(5, seconds / 6));
var deadline = TimeSpan.FromSeconds(seconds);
var workers = Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
{
    var client = http.CreateClient("api");
    var tenant = $"tenant-{caller % tenants}";
    while (clock.Elapsed < deadline)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api").WithTokenTenant(tenant);
            using var response = await client.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                Fail($"{clock.Elapsed.TotalSeconds:F1} s: HTTP {(int)response.StatusCode}");
            }
        }
        catch (Exception ex)
        {
            Fail($"{clock.Elapsed.TotalSeconds:F1} s: {ex.GetType().Name}: {ex.Message}");
        }

        Interlocked.Increment(ref calls);
    }
})).ToList();

await Task.Delay(warmUp);
heapBefore = GC.GetTotalMemory(forceFullCollection: true);
var callsAfterWarmUp = Interlocked.Read(ref calls);
await Task.WhenAll(workers);
var elapsed = clock.Elapsed;
var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
await app.StopAsync();

var growth = heapAfter - heapBefore;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
    TokenClient soak: {callers} callers over {tenants} tenants for {elapsed.TotalSeconds:F1} s through AddTokenHandler, {TokenLifetimeSeconds} s tokens, {faultRate:P0} of token answers faulty
      API calls:              {calls:N0} ({calls / elapsed.TotalSeconds:N0} per second)
      failed API calls:       {failed:N0}
      token requests:         {endpoint.Requests:N0}, of which faulty: {endpoint.Faults:N0} (500: {endpoint.FaultsOf("500")}, no answer: {endpoint.FaultsOf("timeout")}, garbage: {endpoint.FaultsOf("garbage")}, truncated: {endpoint.FaultsOf("truncated")})
      tokens issued:          {endpoint.Issued:N0}
      API rejections (401):   {endpoint.Rejections:N0} (each answered by one renewal and one resend)
      heap after warm-up:     {heapBefore / 1024.0 / 1024:F1} MiB ({callsAfterWarmUp:N0} calls in)
      heap at the end:        {heapAfter / 1024.0 / 1024:F1} MiB (growth {growth / 1024.0 / 1024:F1} MiB, bound {HeapGrowthBound / 1024 / 1024} MiB)
    """));
foreach (var failure in failures)
{
    Console.WriteLine($"  failure: {failure}");
}

var passed = failed == 0 && growth <= HeapGrowthBound;
Console.WriteLine(passed ? "PASS" : "FAIL");
return passed ? 0 : 1;

double Arg(string name, double fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>
/// Issues tokens and checks them. A fault replaces an answer at the given rate, but never more than
/// <c>maxInARow</c> in a row for one tenant, so that every acquisition (one try and that many retries) can succeed.
/// </summary>
internal sealed class FaultyEndpoint(double faultRate, int maxInARow, int lifetimeSeconds)
{
    private static readonly string[] s_kinds = ["500", "timeout", "garbage", "truncated"];
    private readonly ConcurrentDictionary<string, long> _issuedAt = new();
    private readonly ConcurrentDictionary<string, int> _faults = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _inARow = [];
    private long _requests;
    private long _rejections;

    public long Requests => Interlocked.Read(ref _requests);

    public long Faults => _faults.Values.Sum();

    public long Issued => _issuedAt.Count;

    public long Rejections => Interlocked.Read(ref _rejections);

    public int FaultsOf(string kind) => _faults.GetValueOrDefault(kind);

    public async Task IssueAsync(HttpContext context)
    {
        var n = Interlocked.Increment(ref _requests);
        var tenant = (await context.Request.ReadFormAsync()).TryGetValue("organization", out var organization) ? organization.ToString() : string.Empty;
        string? fault = null;
        lock (_gate)
        {
            var inARow = _inARow.GetValueOrDefault(tenant);
            if (inARow < maxInARow && Random.Shared.NextDouble() < faultRate)
            {
                _inARow[tenant] = inARow + 1;
                fault = s_kinds[Random.Shared.Next(s_kinds.Length)];
            }
            else
            {
                _inARow[tenant] = 0;
            }
        }

        if (fault is not null)
        {
            _faults.AddOrUpdate(fault, 1, (_, count) => count + 1);
        }

        switch (fault)
        {
            case "500":
                context.Response.StatusCode = 500;
                return;
            case "timeout":
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The client gave up on this attempt, as it should.
                }

                return;
            case "garbage":
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("<html><body>upstream hiccup</body></html>");
                return;
            case "truncated":
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"access_tok""");
                return;
        }

        var token = $"soak-{n}-{Guid.NewGuid():N}";
        _issuedAt[token] = Stopwatch.GetTimestamp();
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($$"""{"access_token":"{{token}}","token_type":"Bearer","expires_in":{{lifetimeSeconds}}}""");
    }

    // A token is good from its issue for its lifetime, plus a second for the client's measurement from the
    // response's arrival (RFC 6749 leaves the margin to the server); anything else is a 401.
    public IResult Serve(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal)
            && _issuedAt.TryGetValue(header["Bearer ".Length..], out var issued)
            && Stopwatch.GetElapsedTime(issued) < TimeSpan.FromSeconds(lifetimeSeconds + 1))
        {
            return Results.Text("ok");
        }

        Interlocked.Increment(ref _rejections);
        return Results.Unauthorized();
    }
}
