// The quickstart: a token server and an API on 127.0.0.1, and an HttpClient that calls the API
// with tokens it never handles itself. Run: dotnet run --project samples/Quickstart
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Quickstart;
using TokenClient;

await using var server = await LocalServer.StartAsync();
Console.WriteLine($"Started a token server and an API on {server.BaseAddress} (tokens live {LocalServer.TokenLifetime.TotalSeconds:F0} s).");

// The whole integration: register the client, put the handler on the HttpClient.
var services = new ServiceCollection();
services.AddTokenClient("quickstart", o =>
{
    o.TokenEndpoint = new Uri(server.BaseAddress, "/oauth/token");
    o.ClientId = LocalServer.ClientId;
    o.ClientSecret = LocalServer.ClientSecret;
});
services.AddHttpClient("api", c => c.BaseAddress = server.BaseAddress).AddTokenHandler("quickstart");
await using var provider = services.BuildServiceProvider();
var api = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
var failures = 0;

// 1. Many concurrent calls, one token request.
var answers = await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => api.GetStringAsync("/api/greeting")));
Console.WriteLine($"1. Made 25 concurrent API calls: all answered \"{answers.Distinct().Single()}\".");
Check(server.TokensIssued == 1, $"   The token server was asked for a token {Times(server.TokensIssued)}: one request served every caller.");

// 2. Past 90% of the lifetime: the current token at once, a renewal in the background.
var renewalPoint = LocalServer.TokenLifetime * TokenClientOptions.DefaultRefreshRatio;
await Task.Delay(renewalPoint + TimeSpan.FromMilliseconds(100));
var watch = Stopwatch.StartNew();
var during = await api.GetStringAsync("/api/greeting");
watch.Stop();
Console.WriteLine($"2. {renewalPoint.TotalSeconds:F1} s in (90% of the lifetime), a call answered \"{during}\" in {watch.ElapsedMilliseconds} ms: it did not wait for a new token.");
var tokens = provider.GetRequiredKeyedService<ITokenClient>("quickstart");
await WaitUntilAsync(async () => server.TokensIssued == 2 && !(await tokens.GetTokenAsync()).Value.StartsWith("qs-1-", StringComparison.Ordinal));
var after = await api.GetStringAsync("/api/greeting");
Check(server.TokensIssued == 2 && after.EndsWith("#2", StringComparison.Ordinal),
    $"   Meanwhile one renewal ran in the background; the next call answered \"{after}\".");

// 3. The API rejects the token: one renewal, one resend, and the caller never sees the 401.
server.RevokeAll();
using var response = await api.GetAsync("/api/greeting");
var body = await response.Content.ReadAsStringAsync();
var lastTwo = server.ApiLog.TakeLast(2).ToArray();
Console.WriteLine($"3. The server revoked every token. The next call got {(int)response.StatusCode} \"{body}\".");
Check(response.IsSuccessStatusCode && lastTwo[0] == "401" && server.TokensIssued == 3,
    $"   Behind it: the API answered {lastTwo[0]}, the handler got token #{server.TokensIssued} and resent the request once ({lastTwo[1]}).");

Console.WriteLine(failures == 0
    ? $"Done: {server.ApiLog.Count} API requests, {Times(server.TokensIssued)} to the token server."
    : $"{failures} step(s) did not go as described.");
return failures == 0 ? 0 : 1;

void Check(bool ok, string story)
{
    Console.WriteLine(ok ? story : $"   UNEXPECTED: {story}");
    failures += ok ? 0 : 1;
}

static string Times(int n) => n == 1 ? "once" : $"{n} times";

// Waits for the background renewal to land in the cache (bounded: the sample must end).
static async Task WaitUntilAsync(Func<Task<bool>> condition)
{
    for (var i = 0; i < 500 && !await condition(); i++)
    {
        await Task.Delay(10);
    }
}
