using System.Net.Http.Headers;
using System.Text;

namespace TokenClient.Providers;

/// <summary>RFC 6749 section 4.4: client credentials, form-encoded, the baseline every other shaper varies.</summary>
internal sealed class GenericShaper : TokenRequestShaper
{
    public override HttpRequestMessage CreateRequest(TokenRequestContext context)
    {
        var options = context.Options;
        var form = new List<KeyValuePair<string, string>>(8) { new("grant_type", "client_credentials") };
        AddIfSet(form, "scope", options.Scope);
        AddIfSet(form, "audience", options.Audience);
        AddIfSet(form, "resource", options.Resource);
        if (options.ClientAuthentication == ClientAuthentication.Body)
        {
            form.Add(new("client_id", options.ClientId!));
            form.Add(new("client_secret", options.ClientSecret!));
        }

        form.AddRange(options.Parameters);

        var request = Post(context, new FormUrlEncodedContent(form));
        if (options.ClientAuthentication == ClientAuthentication.Basic)
        {
            request.Headers.Authorization = BasicCredentials(options.ClientId!, options.ClientSecret!);
        }

        return request;
    }

    /// <summary>RFC 6749 section 2.3.1: id and secret are each form-urlencoded before they are joined and base64-encoded.</summary>
    internal static AuthenticationHeaderValue BasicCredentials(string clientId, string clientSecret)
    {
        var pair = $"{FormUrlEncode(clientId)}:{FormUrlEncode(clientSecret)}";
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
    }

    // The same encoding FormUrlEncodedContent applies (RFC 3986 escaping, space as '+'), so a
    // secret reads the same whichever way it is sent.
    private static string FormUrlEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);

    internal static void AddIfSet(List<KeyValuePair<string, string>> form, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            form.Add(new(name, value));
        }
    }
}
