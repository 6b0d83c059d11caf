using TokenClient.Http;

namespace TokenClient;

/// <summary>Per-request choices for the token handler.</summary>
public static class HttpRequestMessageTokenExtensions
{
    /// <summary>
    /// Sends this request with the token of <paramref name="tenant"/> (Lone Wolf's customer instance,
    /// Login 3.0's organization): one <see cref="HttpClient"/> can serve many tenants, each with its own cached token.
    /// </summary>
    public static HttpRequestMessage WithTokenTenant(this HttpRequestMessage request, string tenant)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        TokenHandler.SetTenant(request, tenant);
        return request;
    }
}
