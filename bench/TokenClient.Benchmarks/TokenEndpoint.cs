using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;

namespace TokenClient.Benchmarks;

/// <summary>
/// A token endpoint in the process that answers at once with a token valid for a day, to TokenClient, Duende.IdentityModel
/// and MSAL.NET alike (MSAL's instance metadata included, should it ask): the benchmarks measure the clients, not a network.
/// </summary>
internal sealed class TokenEndpoint : HttpMessageHandler
{
    private const string Token = """{"access_token":"token","token_type":"Bearer","expires_in":86400}""";

    private static readonly string s_instanceMetadata = """
        {"tenant_discovery_endpoint":"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration","api-version":"1.1",
         "metadata":[{"preferred_network":"login.microsoftonline.com","preferred_cache":"login.windows.net","aliases":["login.microsoftonline.com","login.windows.net"]}]}
        """;

    private int _requests;

    /// <summary>How many token requests it answered.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>How long it takes to answer; zero answers at once, synchronously.</summary>
    public TimeSpan Latency { get; init; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Method == HttpMethod.Get)
        {
            return Task.FromResult(Json(s_instanceMetadata));
        }

        Interlocked.Increment(ref _requests);
        return Latency > TimeSpan.Zero ? LaterAsync(cancellationToken) : Task.FromResult(Json(Token));
    }

    private async Task<HttpResponseMessage> LaterAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Latency, cancellationToken).ConfigureAwait(false);
        return Json(Token);
    }

    private static HttpResponseMessage Json(string json) =>
        new(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}

/// <summary>MSAL.NET's seam for its HTTP: one client over the in-process endpoint.</summary>
internal sealed class MsalHttp(HttpMessageHandler endpoint) : IMsalHttpClientFactory
{
    private readonly HttpClient _client = new(endpoint, disposeHandler: false);

    public HttpClient GetHttpClient() => _client;
}

/// <summary>The peers as their users set them up for client credentials, against the in-process endpoint.</summary>
internal static class PeerSetup
{
    public const string TenantId = "8f5c1a9e-3b2d-4c6f-9a1e-2d7b4c3f5e60";
    public static readonly string[] Scopes = ["https://api.test/.default"];

    /// <summary>An MSAL confidential client on Entra ID's authority, whose HTTP never leaves the process.</summary>
    public static IConfidentialClientApplication Msal(HttpMessageHandler endpoint) =>
        ConfidentialClientApplicationBuilder.Create("11111111-2222-3333-4444-555555555555")
            .WithClientSecret("secret")
            .WithAuthority($"https://login.microsoftonline.com/{TenantId}/")
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(new MsalHttp(endpoint))
            .Build();

    /// <summary>TokenClient's client "api" against the in-process endpoint, as its README shows it, with the benchmark's own settings.</summary>
    public static IServiceCollection AddApiTokenClient(this IServiceCollection services, HttpMessageHandler endpoint, Action<TokenClientOptions>? more = null)
    {
        services.AddTokenClient("api", o =>
            {
                (o.TokenEndpoint, o.ClientId, o.ClientSecret) = (new Uri("https://auth.test/token"), "id", "secret");
                more?.Invoke(o);
            })
            .ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => endpoint));
        return services;
    }

    /// <summary>Duende.IdentityModel's client-credentials request, as its documentation shows it.</summary>
    public static Duende.IdentityModel.Client.ClientCredentialsTokenRequest DuendeRequest() => new()
    {
        Address = "https://auth.test/token",
        ClientId = "id",
        ClientSecret = "secret",
        Scope = "api",
    };
}
