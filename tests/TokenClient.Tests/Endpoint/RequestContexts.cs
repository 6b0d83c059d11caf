using TokenClient.Credentials;
using TokenClient.Endpoint;

namespace TokenClient.Tests.Endpoint;

/// <summary>The context of one token request, resolved from options as a client's definition resolves it.</summary>
internal static class RequestContexts
{
    public static TokenRequestContext For(string clientName, TokenClientOptions options, Uri endpoint, string? tenant = null)
    {
        var settings = RequestSettings.From(options);
        return new TokenRequestContext(clientName, settings, ExchangeLimits.From(options), endpoint, tenant ?? settings.Tenant, new SecretRedactor(settings.ClientId, settings.ClientSecret, settings.Password));
    }
}
