using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.CustomProviders;

namespace TokenClient.Tests;

/// <summary>Every public entry point refuses a missing argument at once, naming it, rather than failing later elsewhere.</summary>
public class ArgumentTests
{
    public static TheoryData<string, Action> Calls()
    {
        var services = new ServiceCollection();
        var builder = services.AddTokenClient("api", o => o.ClientId = "id");
        return new()
        {
            { "services", () => ((IServiceCollection)null!).AddTokenClient("api", o => { }) },
            { "name", () => services.AddTokenClient("", o => { }) },
            { "configure", () => services.AddTokenClient("api", (Action<TokenClientOptions>)null!) },
            { "configuration", () => services.AddTokenClient("api", (IConfiguration)null!) },
            { "configuration", () => services.AddTokenClients(null!) },
            { "services", () => ((IServiceCollection)null!).AddTokenProvider(new AcmeProvider()) },
            { "provider", () => services.AddTokenProvider(null!) },
            { "builder", () => ((ITokenClientBuilder)null!).ConfigureTokenEndpointHttpClient(_ => { }) },
            { "configure", () => builder.ConfigureTokenEndpointHttpClient(null!) },
            { "builder", () => ((ITokenClientBuilder)null!).UseClientAssertionProvider(_ => null!) },
            { "provider", () => builder.UseClientAssertionProvider(null!) },
            { "services", () => ((IServiceCollection)null!).AddTokenClientHealthChecks() },
            { "name", () => services.AddTokenClientHealthChecks("") },
            { "request", () => ((HttpRequestMessage)null!).WithTokenTenant("acme") },
            { "tenant", () => new HttpRequestMessage().WithTokenTenant("") },
            { "value", () => _ = new AccessToken("", "Bearer", DateTimeOffset.MaxValue) },
            { "tokenType", () => _ = new AccessToken("token", "", DateTimeOffset.MaxValue) },
        };
    }

    [Theory]
    [MemberData(nameof(Calls))]
    public void MissingArgument_IsRefusedAtOnce_NamingIt(string parameter, Action call)
    {
        call.Should().Throw<ArgumentException>().Which.ParamName.Should().Be(parameter);
    }
}
