using TokenClient.Configuration;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>Login 3.0: client credentials, form-encoded, to <c>https://{Domain}/oauth/token</c>, with a required audience and an optional organization.</summary>
internal sealed class Login3Shaper : ProviderShaper
{
    public override string Name => "Login3";

    public override void FillForFake(TokenClientOptions options)
    {
        if (string.IsNullOrEmpty(options.Audience))
        {
            options.Audience = "https://fake-audience.test";
        }
    }

    public override IReadOnlyCollection<OptionKey> UsedKeys { get; } = [OptionKeys.Audience, OptionKeys.Tenant, OptionKeys.Domain];

    public override Uri? DefaultEndpoint(RequestSettings settings) =>
        IsHostName(settings.Domain) ? new Uri($"https://{settings.Domain}/oauth/token") : null;

    public override string MissingEndpointProblem => "Domain is required when Provider is 'Login3' (or set TokenEndpoint).";

    public override IEnumerable<string> Validate(RequestSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.Audience))
        {
            yield return "Audience is required when Provider is 'Login3': it is the identifier of the API the token is for.";
        }

        if (!string.IsNullOrEmpty(settings.Domain) && !IsHostName(settings.Domain))
        {
            yield return $"Domain '{settings.Domain}' must be a host name such as login.example.com, without a scheme or a path.";
        }
    }

    public override bool TakesStandardClientAuthentication => true;

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken) =>
        Post(context, new FormUrlEncodedContent(Fields(
            context.Settings,
            [("grant_type", "client_credentials"), .. ClientCredentials(context), ("audience", context.Settings.Audience), ("organization", context.Tenant)])));

    private static bool IsHostName(string? domain) =>
        !string.IsNullOrEmpty(domain) && Uri.CheckHostName(domain) is UriHostNameType.Dns or UriHostNameType.IPv4;
}
