using System.Net;
using TokenClient.Configuration;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>Lone Wolf: client credentials as JSON, a fixed audience, the customer instance as <c>lwt_client_id</c>.</summary>
internal sealed class LoneWolfShaper : ProviderShaper
{
    internal static readonly Uri Endpoint = new("https://gateway.lwolf.com/oauth/token");
    internal const string Audience = "https://api.lwolf.com";

    public override string Name => "LoneWolf";

    public override IReadOnlyCollection<OptionKey> UsedKeys { get; } = [OptionKeys.Tenant];

    public override Uri? DefaultEndpoint(RequestSettings settings) => Endpoint;

    // Lone Wolf answers 403 on API calls when the token expired or is invalid.
    public override bool IsTokenRejected(HttpStatusCode status) => status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken) =>
        Post(context, JsonBody(Fields(
            context.Settings,
            ("grant_type", "client_credentials"),
            ("client_id", context.Settings.ClientId),
            ("client_secret", context.Settings.ClientSecret),
            ("audience", Audience),
            ("lwt_client_id", context.Tenant))));
}
