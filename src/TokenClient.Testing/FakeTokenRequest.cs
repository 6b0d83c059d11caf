using System.Net.Http.Headers;

namespace TokenClient.Testing;

/// <summary>One token request as the fake token endpoint received it.</summary>
public sealed class FakeTokenRequest
{
    internal FakeTokenRequest(Uri uri, string? contentType, IReadOnlyDictionary<string, string> fields, HttpRequestHeaders headers)
    {
        Uri = uri;
        ContentType = contentType;
        Fields = fields;
        Headers = headers.ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        (ClientId, ClientSecret) = headers.Authorization is { Scheme: "Basic", Parameter: { } basic } ? BasicCredentials(basic)
            : (Field("client_id") ?? Field("api_key"), Field("client_secret") ?? Field("api_secret"));
    }

    /// <summary>The address the request was sent to.</summary>
    public Uri Uri { get; }

    /// <summary>The media type of the body: <c>application/x-www-form-urlencoded</c>, <c>application/json</c> or <c>multipart/form-data</c>.</summary>
    public string? ContentType { get; }

    /// <summary>The body's fields, whatever its format (form, JSON object, multipart form-data).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>The request's headers, <c>Authorization</c> included.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>The <c>grant_type</c> field, if any.</summary>
    public string? GrantType => Field("grant_type");

    /// <summary>The client id, from HTTP Basic credentials or the body (<c>client_id</c>, or APIMW's <c>api_key</c>).</summary>
    public string? ClientId { get; }

    /// <summary>The client secret, from HTTP Basic credentials or the body (<c>client_secret</c>, or APIMW's <c>api_secret</c>).</summary>
    public string? ClientSecret { get; }

    /// <summary>A field of the body, or null.</summary>
    public string? Field(string name) => Fields.TryGetValue(name, out var value) ? value : null;

    // RFC 6749 2.3.1: each half form-urlencoded before the pair is base64-encoded.
    private static (string?, string?) BasicCredentials(string parameter)
    {
        try
        {
            var pair = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? (null, null) : (FormDecode(pair[..colon]), FormDecode(pair[(colon + 1)..]));
        }
        catch (FormatException)
        {
            return (null, null);
        }
    }

    internal static string FormDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
