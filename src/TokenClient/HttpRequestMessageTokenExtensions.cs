using System.Runtime.CompilerServices;

namespace TokenClient;

/// <summary>Per-request choices for the token handler.</summary>
public static class HttpRequestMessageTokenExtensions
{
    // Kept beside the request rather than in request.Options, whose dictionary the handler would otherwise
    // create on every request just to find that it names no tenant.
    private static readonly ConditionalWeakTable<HttpRequestMessage, string> s_tenants = new();

    /// <summary>
    /// Sends this request with the token of <paramref name="tenant"/> (Lone Wolf's customer instance,
    /// Login 3.0's organization): one <see cref="HttpClient"/> can serve many tenants, each with its own cached token.
    /// </summary>
    public static HttpRequestMessage WithTokenTenant(this HttpRequestMessage request, string tenant)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        s_tenants.AddOrUpdate(request, tenant);
        return request;
    }

    /// <summary>The tenant the request names, or null.</summary>
    internal static string? TenantOf(HttpRequestMessage request) => s_tenants.TryGetValue(request, out var tenant) ? tenant : null;
}
