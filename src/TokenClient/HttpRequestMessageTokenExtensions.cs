using System.Runtime.CompilerServices;

namespace TokenClient;

/// <summary>Per-request choices for the token handler.</summary>
public static class HttpRequestMessageTokenExtensions
{
    private static readonly HttpRequestOptionsKey<string> s_tenant = new("TokenClient.Tenant");
    private static readonly HttpRequestOptionsKey<TokenRequestParameters> s_parameters = new("TokenClient.Parameters");

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

    /// <summary>
    /// Sends this request with a token for these parameters (another scope, resources, audience, extra fields, or a
    /// renewal forced), cached under an entry of its own; combinable with <see cref="WithTokenTenant"/>.
    /// </summary>
    public static HttpRequestMessage WithTokenParameters(this HttpRequestMessage request, TokenRequestParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parameters);
        request.Options.Set(s_parameters, parameters);
        return request;
    }

    /// <summary>The tenant and the parameters the request names, or nulls; without creating the request's options where it has none.</summary>
    internal static (string? Tenant, TokenRequestParameters? Parameters) TokenChoicesOf(HttpRequestMessage request)
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

        if (options is null)
        {
            return default;
        }

        return (options.TryGetValue(s_tenant, out var tenant) ? tenant : null, options.TryGetValue(s_parameters, out var parameters) ? parameters : null);
    }

    // request.Options creates its dictionary on first read: a request that names no tenant would pay for one.
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_options")]
    private static extern ref HttpRequestOptions? OptionsIfCreated(HttpRequestMessage request);
}
