using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using TokenClient.Caching;
using TokenClient.Http;

namespace TokenClient.Endpoint;

/// <summary>Reads RFC 6749 token responses (5.1 on success, 5.2 on error) into the token issued, and checks what any provider read.</summary>
internal static class OAuthResponseReader
{
    // A token that claims to live longer than this is treated as living this long: it keeps
    // date arithmetic far from overflow, and a year-old token is renewed anyway.
    internal static readonly TimeSpan MaxLifetime = TokenLifetimes.Max;

    // A token that claims to live less than this is refused: caching it would turn every call into a token request.
    internal static readonly TimeSpan MinLifetime = TokenLifetimes.Min;

    public static IssuedToken Read(TokenRequestContext context, in Answer answer)
    {
        var (status, body) = (answer.Status, answer.Body);
        var parsed = TryDeserialize(body, out var problem);
        if (!IsSuccess(status))
        {
            throw parsed is { Error.Length: > 0 }
                ? TokenErrors.FromOAuthError(context, status, parsed.Error, parsed.ErrorDescription)
                : TokenErrors.FromHttpStatus(context, status, body);
        }

        if (parsed is null)
        {
            throw TokenErrors.UnreadableResponse(context, status, problem!);
        }

        return Issue(context, answer, parsed);
    }

    internal static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and <= 299;

    /// <summary>Checks a parsed body (RFC 6749 section 5.1, or a provider's envelope around one) and issues its token.</summary>
    internal static IssuedToken Issue(TokenRequestContext context, in Answer answer, OAuthTokenResponse parsed) =>
        string.IsNullOrEmpty(parsed.Error)
            ? Issue(context, answer, parsed.AccessToken, parsed.TokenType, parsed.ExpiresIn, parsed.Scope, parsed.RefreshToken)
            : throw TokenErrors.FromOAuthError(context, answer.Status, parsed.Error, parsed.ErrorDescription);

    /// <summary>
    /// The token a provider read from the answer, checked as every provider's is (an access token that fits a header, a
    /// token type, a lifetime within bounds), with its expiry counted from the answer's arrival.
    /// </summary>
    internal static IssuedToken Issue(TokenRequestContext context, in Answer answer, string? accessToken, string? tokenType, double? expiresIn, string? scope, string? refreshToken)
    {
        var status = answer.Status;
        if (string.IsNullOrEmpty(accessToken))
        {
            throw TokenErrors.UnreadableResponse(context, status, "the response has no access_token");
        }

        if (BearerTokenSyntax.FirstInvalid(accessToken) is { } position)
        {
            throw TokenErrors.InvalidResponse(context, status,
                $"access_token has a character that RFC 6750 does not allow in a bearer token (at position {position}); such a token cannot be sent in a header");
        }

        var type = ReadTokenType(context, status, tokenType);
        var expiresAt = TokenLifetime.ExpiresAt(accessToken, ReadLifetime(context, status, expiresIn), answer.ReceivedAt, context.Limits.DefaultLifetime);
        return new IssuedToken(new AccessToken(accessToken, type, expiresAt, scope), answer.ReceivedAt, answer.ReceivedTimestamp, refreshToken);
    }

    // Bearer, or with Dpop a DPoP-bound token (RFC 9449 section 5). A server that ignored the proof and issued a Bearer
    // token is answered in kind: the token is sent as a Bearer token, without proofs.
    private static string ReadTokenType(TokenRequestContext context, HttpStatusCode status, string? type)
    {
        if (type is null || string.Equals(type, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return "Bearer";
        }

        if (context.Settings.Dpop && string.Equals(type, DpopProofs.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return DpopProofs.Scheme;
        }

        throw TokenErrors.InvalidResponse(context, status, context.Settings.Dpop
            ? $"token_type '{TokenErrors.Quote(context, type)}' is not supported: only Bearer and DPoP tokens are"
            : $"token_type '{TokenErrors.Quote(context, type)}' is not supported: only Bearer tokens are (a DPoP token needs Dpop set to true)");
    }

    private static TimeSpan? ReadLifetime(TokenRequestContext context, HttpStatusCode status, double? expiresIn)
    {
        if (expiresIn is not { } seconds)
        {
            return null;
        }

        if (!(seconds > 0) || double.IsInfinity(seconds))
        {
            throw TokenErrors.InvalidResponse(context, status,
                $"expires_in must be a positive number of seconds, not {seconds.ToString(CultureInfo.InvariantCulture)}");
        }

        if (seconds < MinLifetime.TotalSeconds)
        {
            throw TokenErrors.InvalidResponse(context, status,
                $"expires_in of {seconds.ToString(CultureInfo.InvariantCulture)} s is below the minimum lifetime of {MinLifetime.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }

        return TimeSpan.FromSeconds(Math.Min(seconds, MaxLifetime.TotalSeconds));
    }

    /// <summary>The body as a token response object, or null with the reason it is not one.</summary>
    internal static OAuthTokenResponse? TryDeserialize(ReadOnlySpan<byte> body, out string? problem)
    {
        problem = null;
        if (body.IsEmpty)
        {
            problem = "the response body is empty";
            return null;
        }

        try
        {
            var parsed = JsonSerializer.Deserialize(body, TokenJsonContext.Default.OAuthTokenResponse);
            if (parsed is null)
            {
                problem = "the response body is JSON null";
            }

            return parsed;
        }
        catch (JsonException ex)
        {
            problem = Describe(body, ex);
            return null;
        }
    }

    // The exception's own message may quote the body, which may hold the token: say only what is wrong and where.
    private static string Describe(ReadOnlySpan<byte> body, JsonException ex)
    {
        // The reader throws on malformed, truncated or trailing text; a body it reads to the end is one JSON value.
        var reader = new Utf8JsonReader(body);
        try
        {
            while (reader.Read())
            {
            }
        }
        catch (JsonException)
        {
            return "the response body is not valid JSON (malformed, truncated or more than one value)";
        }

        return ex.Path is null or "$"
            ? "the response body is not a JSON object"
            : $"the response field {ex.Path} has an unexpected value";
    }
}

/// <summary>The fields of RFC 6749 sections 5.1 and 5.2.</summary>
internal sealed class OAuthTokenResponse
{
    [JsonPropertyName("access_token")]
    public string? AccessToken { get; set; }

    [JsonPropertyName("token_type")]
    public string? TokenType { get; set; }

    // Numbers or numeric strings: servers send both.
    [JsonPropertyName("expires_in")]
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)]
    public double? ExpiresIn { get; set; }

    [JsonPropertyName("scope")]
    public string? Scope { get; set; }

    [JsonPropertyName("refresh_token")]
    public string? RefreshToken { get; set; }

    [JsonPropertyName("error")]
    public string? Error { get; set; }

    [JsonPropertyName("error_description")]
    public string? ErrorDescription { get; set; }
}

[JsonSerializable(typeof(OAuthTokenResponse))]
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = false)]
internal sealed partial class TokenJsonContext : JsonSerializerContext;
