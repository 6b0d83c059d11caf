using System.Net.Http.Headers;
using System.Text;

namespace TokenClient.Credentials;

/// <summary>HTTP Basic client authentication (RFC 6749 section 2.3.1): how the client id and secret go in the header.</summary>
internal static class ClientSecretBasic
{
    /// <summary>The header's value: id and secret each form-urlencoded, then joined and base64-encoded.</summary>
    public static AuthenticationHeaderValue Header(string clientId, string clientSecret)
    {
        var pair = $"{FormUrlEncode(clientId)}:{FormUrlEncode(clientSecret)}";
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
    }

    // The same encoding FormUrlEncodedContent applies (RFC 3986 escaping, space as '+'), so a
    // secret reads the same whichever way it is sent.
    private static string FormUrlEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);
}
