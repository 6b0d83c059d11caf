// The quickstart: token servers and an API on 127.0.0.1, and HttpClients that call the API with
// tokens they never handle themselves.
//   dotnet run --project samples/Quickstart              the story of one client, then every provider
//   dotnet run --project samples/Quickstart -- Wokelo    one provider (Generic, LoneWolf, Wll, Apimw, Login3, Wokelo)
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Quickstart;
using TokenClient;

var only = args.FirstOrDefault();
if (only is not null && !LocalServer.TokenPaths.ContainsKey(only))
{
    Console.Error.WriteLine($"Unknown provider '{only}'. Use one of: {string.Join(", ", LocalServer.TokenPaths.Keys)}.");
    return 2;
}

await using var server = await LocalServer.StartAsync();
Console.WriteLine($"Started token endpoints for {LocalServer.TokenPaths.Count} providers and an API on {server.BaseAddress} (tokens live {server.TokenLifetime.TotalSeconds:F0} s).");

// The whole integration, per provider: register the client, put the handler on the HttpClient.
var services = new ServiceCollection();
foreach (var provider in LocalServer.TokenPaths.Keys)
{
    services.AddTokenClient(provider, o =>
    {
        o.Provider = provider;
        o.TokenEndpoint = server.TokenEndpoint(provider); // the providers' own endpoints are the defaults
        o.ClientId = LocalServer.ClientId;
        o.ClientSecret = server.ClientSecret;
        switch (provider)
        {
            case "Wll":
                o.Environment = WllEnvironment.Staging;
                break;
            case "Login3":
                o.Audience = "https://quickstart.example/api";
                break;
            case "Wokelo":
                o.Username = LocalServer.WokeloUsername;
                o.Password = LocalServer.WokeloPassword;
                break;
        }
    });
    services.AddHttpClient(provider, c => c.BaseAddress = new Uri(server.BaseAddress, $"/api/{provider}/")).AddTokenHandler(provider);
}

await using var container = services.BuildServiceProvider();
var http = container.GetRequiredService<IHttpClientFactory>();
var failures = 0;

if (only is null || only.Equals("Generic", StringComparison.OrdinalIgnoreCase))
{
    await TellTheStoryAsync(http.CreateClient("Generic"), container.GetRequiredKeyedService<ITokenClient>("Generic"));
}

foreach (var provider in LocalServer.TokenPaths.Keys.Where(p => p != "Generic" && (only is null || p.Equals(only, StringComparison.OrdinalIgnoreCase))))
{
    await ShowProviderAsync(provider, http.CreateClient(provider));
}

Console.WriteLine(failures == 0
    ? $"Done: {server.ApiLog.Count} API requests, {Times(server.TokensIssued)} to the token endpoints."
    : $"{failures} step(s) did not go as described.");
return failures == 0 ? 0 : 1;

async Task TellTheStoryAsync(HttpClient api, ITokenClient tokens)
{
    var issuedBefore = server.TokensIssued;
    int Issued() => server.TokensIssued - issuedBefore;

    // 1. Many concurrent calls, one token request.
    var answers = await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => api.GetStringAsync("greeting")));
    Console.WriteLine($"1. Made 25 concurrent API calls: all answered \"{answers.Distinct().Single()}\".");
    Check(Issued() == 1, $"   The token endpoint was asked for a token {Times(Issued())}: one request served every caller.");

    // 2. Past 90% of the lifetime: the current token at once, a renewal in the background.
    var renewalPoint = server.TokenLifetime * TokenClientOptions.DefaultRefreshRatio;
    await Task.Delay(renewalPoint + TimeSpan.FromMilliseconds(100));
    var first = await tokens.GetTokenAsync();
    var watch = Stopwatch.StartNew();
    var during = await api.GetStringAsync("greeting");
    watch.Stop();
    Console.WriteLine($"2. {renewalPoint.TotalSeconds:F1} s in (90% of the lifetime), a call answered \"{during}\" in {watch.ElapsedMilliseconds} ms: it did not wait for a new token.");
    await WaitUntilAsync(async () => (await tokens.GetTokenAsync()).Value != first.Value);
    var after = await api.GetStringAsync("greeting");
    Check(Issued() == 2, $"   Meanwhile one renewal ran in the background; the next call answered \"{after}\".");

    // 3. The API rejects the token: one renewal, one resend, and the caller never sees the 401.
    server.RevokeAll();
    using var response = await api.GetAsync("greeting");
    var body = await response.Content.ReadAsStringAsync();
    var lastTwo = server.ApiLog.TakeLast(2).ToArray();
    Console.WriteLine($"3. The server revoked every token. The next call got {(int)response.StatusCode} \"{body}\".");
    Check(response.IsSuccessStatusCode && lastTwo[0] == "401" && Issued() == 3,
        $"   Behind it: the API answered {lastTwo[0]}, the handler got a new token and resent the request once ({lastTwo[1]}).");
}

async Task ShowProviderAsync(string provider, HttpClient api)
{
    var logged = server.TokenLog.Count;
    var greeting = await api.GetStringAsync("greeting");
    server.RevokeAll();
    using var response = await api.GetAsync("greeting");
    var apiAnswers = server.ApiLog.TakeLast(2).ToArray();
    var tokenRequests = server.TokenLog.Skip(logged).ToArray();
    Console.WriteLine($"{provider}: \"{greeting}\"; after a revocation the API answered {apiAnswers[0]}, then {(int)response.StatusCode} on the one resend.");
    foreach (var line in tokenRequests)
    {
        Console.WriteLine($"   token endpoint: {line}");
    }

    Check(response.IsSuccessStatusCode && tokenRequests.Length == 2, $"   {provider} works end to end through AddTokenHandler.");
}

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
