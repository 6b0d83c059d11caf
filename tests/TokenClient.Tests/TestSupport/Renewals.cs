using TokenClient.Caching;
using TokenClient.Clients;

namespace TokenClient.Tests.TestSupport;

/// <summary>Reaches the cache behind a client handle, to watch its background renewals.</summary>
internal static class Renewals
{
    /// <summary>The cache the handle serves from now.</summary>
    public static CachingTokenClient Cache(this ITokenClient client) => client switch
    {
        NamedClient named => named.Cache,
        TenantEntry entry => entry.Cache,
        _ => (CachingTokenClient)client,
    };

    /// <summary>Waits for the handle's background renewal, whether it succeeds or fails.</summary>
    public static async Task RenewalSettledAsync(this ITokenClient client)
    {
        if (client.Cache().PendingAcquisition is { } renewal)
        {
            await renewal.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
