using System.Runtime.CompilerServices;

namespace TokenClient;

/// <summary>Per-request choices for the token handler.</summary>
public static class HttpRequestMessageTokenExtensions
{
    private static readonly HttpRequestOptionsKey<string> s_tenant = new("TokenClient.Tenant");

    /// <summary>
    /// Sends this request with the token of <paramref name="tenant"/> (Lone Wolf's customer instance,
    /// Login 3.0's organization): one <see cref="HttpClient"/> can serve many tenants, each with its own cached token.
    /// </summary>
    public static HttpRequestMessage WithTokenTenant(this HttpRequestMessage request, string tenant)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        TenantNames.ThrowIfTooLong(tenant);

        // In request.Options, which handlers that copy a request (hedging, retries from a snapshot) carry over.
        request.Options.Set(s_tenant, tenant);
        return request;
    }

    /// <summary>The tenant the request names, or null; without creating the request's options where it has none.</summary>
    internal static string? TenantOf(HttpRequestMessage request)
    {
        HttpRequestOptions? options;
        try
        {
            options = OptionsIfCreated(request);
        }
        catch (MissingFieldException)
        {
            options = request.Options; // a runtime that names the field otherwise: correct, at the cost of creating it
        }

        return options is not null && options.TryGetValue(s_tenant, out var tenant) ? tenant : null;
    }

    // request.Options creates its dictionary on first read: a request that names no tenant would pay for one.
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_options")]
    private static extern ref HttpRequestOptions? OptionsIfCreated(HttpRequestMessage request);
}
