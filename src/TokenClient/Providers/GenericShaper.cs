using System.Net.Http.Headers;
using System.Text;

namespace TokenClient.Providers;

/// <summary>RFC 6749 section 4.4: client credentials, form-encoded, the baseline every other shaper varies.</summary>
internal sealed class GenericShaper : TokenRequestShaper
{
    public override string Name => "Generic";

    public override IReadOnlyCollection<OptionKey> UsedKeys { get; } = [OptionKeys.Scope, OptionKeys.Audience, OptionKeys.Resource];

    public override bool TakesStandardClientAuthentication => true;

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken)
    {
        var options = context.Options;
        var inBasic = options.ClientAuthentication == ClientAuthentication.Basic;
        (string, string?)[] grant = [("grant_type", "client_credentials"), ("scope", options.Scope), ("audience", options.Audience), ("resource", options.Resource)];
        var form = Fields(options, inBasic ? grant : [.. grant, .. ClientCredentials(context)]);

        var request = Post(context, new FormUrlEncodedContent(form));
        if (inBasic)
        {
            request.Headers.Authorization = context.BasicCredentials;
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
}
