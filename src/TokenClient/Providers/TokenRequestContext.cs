namespace TokenClient.Providers;

/// <summary>Everything a shaper needs to build one token request.</summary>
internal sealed record TokenRequestContext(string ClientName, TokenClientOptions Options, Uri Endpoint, string? Tenant)
{
    /// <summary>Removes this client's secrets from whatever the server sends back before it is quoted.</summary>
    public SecretRedactor Secrets { get; } = new(Options);
}

/// <summary>A successful token response, as the shaper read it from the wire.</summary>
/// <param name="AccessToken">The token.</param>
/// <param name="Lifetime">From <c>expires_in</c>; null when the response did not say.</param>
/// <param name="Scope">The granted scope, if the response said.</param>
/// <param name="RefreshToken">A refresh token, if the response carried one.</param>
internal readonly record struct TokenResponse(string AccessToken, TimeSpan? Lifetime, string? Scope, string? RefreshToken)
{
    // The generated ToString would print both tokens.
    public override string ToString() => $"token response, lifetime {Lifetime?.ToString() ?? "unknown"}";
}
