using TokenClient.Configuration;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>WLL: client credentials as JSON; the region picks the endpoint, the environment the audience.</summary>
internal sealed class WllShaper : ProviderShaper
{
    public override string Name => "Wll";

    public override IReadOnlyCollection<OptionKey> UsedKeys { get; } = [OptionKeys.Audience];

    public override Uri? DefaultEndpoint(RequestSettings settings) => settings.Region switch
    {
        WllRegion.US => new Uri("https://auth.us.wlloyalty.net/oauth/token"),
        WllRegion.GCC => new Uri("https://auth.me.wlloyalty.net/oauth/token"),
        _ => new Uri("https://auth.wlloyalty.net/oauth/token"),
    };

    public override IEnumerable<string> Validate(RequestSettings settings)
    {
        if (!Enum.IsDefined(settings.Region))
        {
            yield return $"Region '{settings.Region}' is not known; use EU, US or GCC.";
        }

        if (!Enum.IsDefined(settings.Environment))
        {
            yield return $"Environment '{settings.Environment}' is not known; use Any, Staging or Production.";
        }
    }

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken) =>
        Post(context, JsonBody(Fields(
            context.Settings,
            ("client_id", context.Settings.ClientId),
            ("client_secret", context.Settings.ClientSecret),
            ("audience", AudienceOf(context.Settings)),
            ("grant_type", "client_credentials"))));

    // An explicit Audience wins over the one the environment implies.
    internal static string AudienceOf(RequestSettings settings) =>
        !string.IsNullOrEmpty(settings.Audience) ? settings.Audience : settings.Environment switch
        {
            WllEnvironment.Staging => "staging.wlloyalty.net",
            WllEnvironment.Production => "production.wlloyalty.net",
            _ => "wlloyalty.net",
        };
}
