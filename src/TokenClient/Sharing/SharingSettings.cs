using Microsoft.AspNetCore.DataProtection;

namespace TokenClient.Sharing;

/// <summary>What the shared level of a client needs from its options, resolved once per definition.</summary>
/// <param name="Protector">The client's own protector (<c>SharedCacheProtector</c>); null: the container's Data Protection, if any.</param>
/// <param name="Timeout">The bound on each call to the shared cache and the lock (<c>SharedCacheTimeout</c>).</param>
/// <param name="RefreshRatio">Where in its lifetime a shared token is due.</param>
/// <param name="TotalTimeout">How long a token request may take: with the lock's expiry, how long a waiter waits for another instance's.</param>
internal sealed record SharingSettings(IDataProtector? Protector, TimeSpan Timeout, double RefreshRatio, TimeSpan TotalTimeout);
