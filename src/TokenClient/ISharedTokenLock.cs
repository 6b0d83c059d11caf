namespace TokenClient;

/// <summary>
/// A lock that the instances of a service share, so that when several miss the shared cache at once, one
/// requests the token and the others wait for it. <c>TokenClient.Redis</c> provides one on Redis
/// (<c>AddTokenClientRedisLock</c>); without any, instances that miss at the same moment each request a token.
/// </summary>
public interface ISharedTokenLock
{
    /// <summary>Tries once, without waiting, to take the lock named <paramref name="key"/>.</summary>
    /// <param name="key">The lock's name.</param>
    /// <param name="expiry">
    /// How long the lock outlives a holder that died: an implementation keeps the lock for as long as the handle is
    /// not disposed (extending it), and lets it free itself within this time once nobody extends it.
    /// </param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>A handle whose disposal releases the lock, or null when another holder has it.</returns>
    ValueTask<IAsyncDisposable?> TryTakeAsync(string key, TimeSpan expiry, CancellationToken cancellationToken);
}
