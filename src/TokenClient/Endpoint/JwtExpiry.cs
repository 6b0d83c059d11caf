using System.Text.Json;

namespace TokenClient.Endpoint;

/// <summary>
/// Reads the <c>exp</c> claim of a JWT, for responses that do not say <c>expires_in</c>. The
/// signature is not checked: the value only bounds how long the token is cached.
/// </summary>
internal static class JwtExpiry
{
    // 9999-12-31T23:59:59Z, the last second DateTimeOffset holds.
    private const long MaxUnixSeconds = 253402300799;

    public static DateTimeOffset? TryRead(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || TryDecodeBase64Url(parts[1]) is not { } payload)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("exp", out var exp)
                && exp.ValueKind == JsonValueKind.Number
                && exp.TryGetInt64(out var seconds)
                && seconds is > 0 and <= MaxUnixSeconds
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // Base64Url arrived in .NET 9; on net8.0 map the alphabet and pad by hand.
    private static byte[]? TryDecodeBase64Url(string text)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        try
        {
            return Convert.FromBase64String(base64);
        }
        catch (FormatException)
        // Stryker disable once Block : an emptied block returns the default, which is null too
        {
            return null;
        }
    }
}
