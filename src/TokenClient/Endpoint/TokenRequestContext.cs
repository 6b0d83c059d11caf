using System.Net.Http.Headers;
using TokenClient.Credentials;

namespace TokenClient.Endpoint;

/// <summary>Everything a shaper needs to build one token request.</summary>
/// <param name="ClientName">The configured client.</param>
/// <param name="Settings">What its requests say: credentials and the provider's fields.</param>
/// <param name="Limits">How long, how large and how often its exchanges may be.</param>
/// <param name="Endpoint">The token endpoint.</param>
/// <param name="Tenant">The tenant the token is for, if any.</param>
/// <param name="Secrets">Removes this client's secrets from whatever the server sends back before it is quoted.</param>
internal sealed record TokenRequestContext(string ClientName, RequestSettings Settings, ExchangeLimits Limits, Uri Endpoint, string? Tenant, SecretRedactor Secrets)
{
    private AuthenticationHeaderValue? _basicCredentials;

    /// <summary>The parameters of the calls this context serves (already applied to <see cref="Settings"/>), for a user's <see cref="TokenProvider"/>; null where none.</summary>
    public TokenRequestParameters? Parameters { get; init; }

    /// <summary>With <see cref="ClientAuthentication.PrivateKeyJwt"/>: this attempt's client assertion.</summary>
    public string? ClientAssertion { get; init; }

    /// <summary>The client's Basic credentials (RFC 6749 section 2.3.1), encoded once for every request of the context.</summary>
    public AuthenticationHeaderValue BasicCredentials => _basicCredentials ??= ClientSecretBasic.Header(Settings.ClientId!, Settings.ClientSecret!);
}
