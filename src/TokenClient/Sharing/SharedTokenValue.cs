using System.Text.Json;
using System.Text.Json.Serialization;
using TokenClient.Endpoint;

namespace TokenClient.Sharing;

/// <summary>
/// What the shared cache holds for one key, before encryption: the token, when it expires, and when the
/// instance that fetched it renews it, so that every instance that takes it renews at that moment too.
/// </summary>
internal sealed record SharedTokenValue(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("type")] string TokenType,
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("expires")] long ExpiresAtUnixMs,
    [property: JsonPropertyName("renew")] long RenewAtUnixMs)
{
    public const int CurrentVersion = 1;

    private const int MaxScopeLength = 4096;

    public static SharedTokenValue From(AccessToken token, DateTimeOffset renewAt) =>
        new(CurrentVersion, token.Value, token.TokenType, token.Scope, token.ExpiresAt.ToUnixTimeMilliseconds(), renewAt.ToUnixTimeMilliseconds());

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, SharedTokenJson.Default.SharedTokenValue);

    /// <summary>Reads a value; anything that is not one this version wrote fails with the reason, never quoting the value.</summary>
    public static SharedTokenValue Parse(ReadOnlySpan<byte> bytes, DateTimeOffset now)
    {
        SharedTokenValue? value;
        try
        {
            value = JsonSerializer.Deserialize(bytes, SharedTokenJson.Default.SharedTokenValue);
        }
        catch (JsonException)
        {
            throw new FormatException("not a token value of TokenClient");
        }

        if (value is null || value.Version != CurrentVersion)
        {
            throw new FormatException($"not a token value of version {CurrentVersion}");
        }

        // As strict as a token endpoint's answer: a Bearer token of RFC 6750's characters, a scope of printable text.
        if (string.IsNullOrEmpty(value.Token) || BearerTokenSyntax.FirstInvalid(value.Token) is not null || value.TokenType != "Bearer")
        {
            throw new FormatException("its token is not a well-formed Bearer token");
        }

        if (value.Scope is { } scope && (scope.Length > MaxScopeLength || scope.Any(char.IsControl)))
        {
            throw new FormatException("its scope is malformed");
        }

        if (value.RenewAtUnixMs <= 0 || value.RenewAtUnixMs > value.ExpiresAtUnixMs || value.ExpiresAtUnixMs > (now + OAuthResponseReader.MaxLifetime).ToUnixTimeMilliseconds())
        {
            throw new FormatException("its times are not those of a token (before 1970, renewal after expiry, or expiry past a year)");
        }

        return value;
    }

    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeMilliseconds(ExpiresAtUnixMs);

    public DateTimeOffset RenewAt => DateTimeOffset.FromUnixTimeMilliseconds(RenewAtUnixMs);

    public AccessToken ToToken() => new(Token, TokenType, ExpiresAt, Scope);

    // The generated ToString would print the token.
    public override string ToString() => $"shared {TokenType} token, expires {ExpiresAt:O}, renewed from {RenewAt:O}";
}

[JsonSerializable(typeof(SharedTokenValue))]
internal sealed partial class SharedTokenJson : JsonSerializerContext;
