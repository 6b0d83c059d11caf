using System.Diagnostics;
using System.Net.Http.Headers;

namespace TokenClient;

/// <summary>An access token and what is known of it. Immutable; <see cref="ToString"/> never shows <see cref="Value"/>.</summary>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class AccessToken
{
    [DebuggerBrowsable(DebuggerBrowsableState.Never)]
    private AuthenticationHeaderValue? _authorization;

    /// <summary>Creates a token.</summary>
    /// <param name="value">The token itself, as the server issued it.</param>
    /// <param name="tokenType">The token type; any case of "bearer" is normalized to "Bearer", and of "dpop" to "DPoP".</param>
    /// <param name="expiresAt">When the token stops being valid.</param>
    /// <param name="scope">The scope the server granted, if it said.</param>
    public AccessToken(string value, string tokenType, DateTimeOffset expiresAt, string? scope = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        ArgumentException.ThrowIfNullOrEmpty(tokenType);
        Value = value;
        TokenType = string.Equals(tokenType, "Bearer", StringComparison.OrdinalIgnoreCase) ? "Bearer"
            : string.Equals(tokenType, "DPoP", StringComparison.OrdinalIgnoreCase) ? "DPoP"
            : tokenType;
        ExpiresAt = expiresAt;
        Scope = scope;
    }

    /// <summary>The token to send. A secret: never log it.</summary>
    [DebuggerBrowsable(DebuggerBrowsableState.Never)]
    public string Value { get; }

    /// <summary>
    /// The token type, normalized: "Bearer" whatever the case on the wire, or "DPoP" for a token bound to the client's
    /// DPoP key (<see cref="TokenClientOptions.Dpop"/>), which is sent only with a proof signed by that key.
    /// </summary>
    public string TokenType { get; }

    /// <summary>When the token stops being valid, measured from when the token response arrived.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The scope the server granted, if it said.</summary>
    public string? Scope { get; }

    // Built once per token: the handler attaches the same header to every request that uses it.
    internal AuthenticationHeaderValue AuthorizationHeader => _authorization ??= new AuthenticationHeaderValue(TokenType, Value);

    /// <summary>Describes the token without its value.</summary>
    public override string ToString() =>
        Scope is null
            ? $"{TokenType} token, expires {ExpiresAt:O}"
            : $"{TokenType} token for scope '{Scope}', expires {ExpiresAt:O}";
}
