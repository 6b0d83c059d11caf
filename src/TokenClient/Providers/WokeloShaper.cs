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

    public override Uri? DefaultEndpoint(TokenClientOptions options) => Endpoint;

    public override IEnumerable<string> Validate(TokenClientOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Username))
        {
            yield return "Username is required when Provider is 'Wokelo': the account's e-mail address.";
        }

        if (string.IsNullOrEmpty(options.Password))
        {
            yield return "Password is required when Provider is 'Wokelo'.";
        }
    }

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken)
    {
        var options = context.Options;
        var fields = refreshToken is null
            ? Fields(options,
                ("client_id", options.ClientId),
                ("client_secret", options.ClientSecret),
                ("username", options.Username),
                ("password", options.Password),
                ("grant_type", "password"))
            : Fields(options,
                ("grant_type", "refresh_token"),
                ("refresh_token", refreshToken),
                ("client_id", options.ClientId),
                ("client_secret", options.ClientSecret));

        var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            content.Add(new StringContent(value), name);
        }

        return Post(context, content);
    }
}
