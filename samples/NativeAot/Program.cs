// TokenClient compiled ahead of time (PublishAot): configuration binding, the cache, the handler, retries
// (Polly) and the health check, against a token endpoint and an API on 127.0.0.1. Exits with 0
// when every step did what it says.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NativeAot;
using TokenClient;

await using var server = new LoopbackServer();

var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
{
    ["TokenClients:api:TokenEndpoint"] = new Uri(server.BaseAddress, "token").ToString(),
    ["TokenClients:api:ClientId"] = LoopbackServer.ClientId,
    ["TokenClients:api:ClientSecret"] = LoopbackServer.ClientSecret,
    ["TokenClients:api:MaxRetries"] = "2",
    ["TokenClients:api:RefreshRatio"] = "0.9",
}).Build();

var services = new ServiceCollection();
services.AddTokenClients(configuration.GetSection("TokenClients"));
services.AddHttpClient("api", c => c.BaseAddress = server.BaseAddress).AddTokenHandler("api");
services.AddTokenClientHealthChecks();
await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();

var failures = 0;
void Check(bool passed, string what)
{
    Console.WriteLine($"{(passed ? "ok  " : "FAIL")} {what}");
    failures += passed ? 0 : 1;
}

var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => http.GetStringAsync("api/hello")));
Check(answers.All(a => a == "hello from the API") && server.TokensIssued == 1, $"10 concurrent API calls, {server.TokensIssued} token request");

server.RevokeAll();
var afterRevocation = await http.GetAsync("api/hello");
Check(afterRevocation.IsSuccessStatusCode && server.TokensIssued == 2, "a revoked token: one renewal, and the request resent once");

var token = await provider.GetRequiredKeyedService<ITokenClient>("api").GetTokenAsync();
Check(!token.ToString().Contains(token.Value, StringComparison.Ordinal), $"the token's ToString() hides its value: {token}");

var health = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
Check(health.Status == HealthStatus.Healthy, $"health check: {health.Status}");

var wrong = new ServiceCollection();
wrong.AddTokenClient("bad", o =>
{
    o.TokenEndpoint = new Uri(server.BaseAddress, "token");
    o.ClientId = LoopbackServer.ClientId;
    o.ClientSecret = "not-the-secret";
});
await using (var badProvider = wrong.BuildServiceProvider())
{
    try
    {
        await badProvider.GetRequiredKeyedService<ITokenClient>("bad").GetTokenAsync();
        Check(false, "a wrong secret is refused");
    }
    catch (TokenRequestException ex)
    {
        Check(ex.Error == "invalid_client" && !ex.Message.Contains("not-the-secret", StringComparison.Ordinal), $"a wrong secret is refused: {ex.Message}");
    }
}

Console.WriteLine(failures == 0 ? "Every step did what it says." : $"{failures} step(s) failed.");
return failures == 0 ? 0 : 1;
