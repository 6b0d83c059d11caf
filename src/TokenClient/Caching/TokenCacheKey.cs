namespace TokenClient.Caching;

/// <summary>Everything that changes the token: two requests that agree on all of it may share one token.</summary>
internal readonly record struct TokenCacheKey(
    string ClientName,
    Uri Endpoint,
    string? ClientId,
    string? Scope,
    string? Audience,
    string? Resource,
    string? Tenant);
