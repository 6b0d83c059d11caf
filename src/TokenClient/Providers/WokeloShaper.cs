using TokenClient.Configuration;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>
/// Wokelo: the password grant as multipart form-data, as the provider's own example sends it; renewal
/// with the refresh token (RFC 6749 section 6) at the same endpoint.
/// </summary>
internal sealed class WokeloShaper : ProviderShaper
{
    internal static readonly Uri Endpoint = new("https://api.wokelo.ai/auth/token/");

    public override string Name => "Wokelo";

    public override void FillForFake(TokenClientOptions options)
    {
        options.Username = string.IsNullOrEmpty(options.Username) ? "fake-user@example.test" : options.Username;
        options.Password = "fake-password";
    }

    public override IReadOnlyCollection<OptionKey> UsedKeys { get; } = [OptionKeys.Username, OptionKeys.Password];

    public override bool UsesRefreshTokens => true;

    public override Uri? DefaultEndpoint(RequestSettings settings) => Endpoint;

    public override IEnumerable<string> Validate(RequestSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.Username))
        {
            yield return "Username is required when Provider is 'Wokelo': the account's e-mail address.";
        }

        if (string.IsNullOrEmpty(settings.Password))
        {
            yield return "Password is required when Provider is 'Wokelo'.";
        }
    }

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken)
    {
        var settings = context.Settings;
        var fields = refreshToken is null
            ? Fields(settings,
                ("client_id", settings.ClientId),
                ("client_secret", settings.ClientSecret),
                ("username", settings.Username),
                ("password", settings.Password),
                ("grant_type", "password"))
            : Fields(settings,
                ("grant_type", "refresh_token"),
                ("refresh_token", refreshToken),
                ("client_id", settings.ClientId),
                ("client_secret", settings.ClientSecret));

        var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            content.Add(new StringContent(value), name);
        }

        return Post(context, content);
    }
}
