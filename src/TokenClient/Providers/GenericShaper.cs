using TokenClient.Configuration;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>RFC 6749 section 4.4: client credentials, form-encoded, the baseline every other shaper varies.</summary>
internal sealed class GenericShaper : ProviderShaper
{
    public override string Name => "Generic";

    public override bool TakesAuthority => true;

    public override IReadOnlyCollection<OptionKey> UsedKeys { get; } = [OptionKeys.Scope, OptionKeys.Audience, OptionKeys.Resource];

    public override bool TakesStandardClientAuthentication => true;

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken)
    {
        var settings = context.Settings;
        var inBasic = settings.ClientAuthentication == ClientAuthentication.Basic;
        (string, string?)[] grant = [("grant_type", "client_credentials"), ("scope", settings.Scope), ("audience", settings.Audience), .. settings.Resources.Select(static resource => ("resource", (string?)resource))];
        var form = Fields(settings, inBasic ? grant : [.. grant, .. ClientCredentials(context)]);

        var request = Post(context, new FormUrlEncodedContent(form));
        if (inBasic)
        {
            request.Headers.Authorization = context.BasicCredentials;
        }

        return request;
    }
}
