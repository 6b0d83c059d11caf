using TokenClient.Caching;

namespace TokenClient.Tests.TestSupport;

/// <summary>Waits for a cache's background renewal, whether it succeeds or fails.</summary>
internal static class Renewals
{
    public static async Task RenewalSettledAsync(this ITokenClient client)
    {
        if (((CachingTokenClient)client).PendingAcquisition is { } renewal)
        {
            await renewal.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
