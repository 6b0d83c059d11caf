using System.Net.Http.Headers;
using TokenClient.Credentials;

namespace TokenClient.Endpoint;

/// <summary>Everything a shaper needs to build one token request.</summary>
/// <param name="ClientName">The configured client.</param>
/// <param name="Options">Its options.</param>
/// <param name="Endpoint">The token endpoint.</param>
/// <param name="Tenant">The tenant the token is for, if any.</param>
/// <param name="Secrets">Removes this client's secrets from whatever the server sends back before it is quoted.</param>
internal sealed record TokenRequestContext(string ClientName, TokenClientOptions Options, Uri Endpoint, string? Tenant, SecretRedactor Secrets)
{
    private AuthenticationHeaderValue? _basicCredentials;

    /// <summary>With <see cref="ClientAuthentication.PrivateKeyJwt"/>: this attempt's client assertion.</summary>
    public string? ClientAssertion { get; init; }

    /// <summary>The client's Basic credentials (RFC 6749 section 2.3.1), encoded once for every request of the context.</summary>
    public AuthenticationHeaderValue BasicCredentials => _basicCredentials ??= ClientSecretBasic.Header(Options.ClientId!, Options.ClientSecret!);
}

/// <summary>A successful token response, as the shaper read it from the wire.</summary>
/// <param name="AccessToken">The token.</param>
/// <param name="Lifetime">From <c>expires_in</c>; null when the response did not say.</param>
/// <param name="Scope">The granted scope, if the response said.</param>
/// <param name="RefreshToken">A refresh token, if the response carried one.</param>
/// <param name="TokenType">"Bearer", or "DPoP" for a token bound to the client's DPoP key.</param>
internal readonly record struct TokenResponse(string AccessToken, TimeSpan? Lifetime, string? Scope, string? RefreshToken, string TokenType = "Bearer")
{
    // The generated ToString would print both tokens.
    public override string ToString() => $"token response, lifetime {Lifetime?.ToString() ?? "unknown"}";
}
