using StackExchange.Redis;

namespace TokenClient.Redis;

/// <summary>
/// The shared cache's lock on Redis: <c>SET key mark NX PX expiry</c> through StackExchange.Redis's
/// <see cref="IDatabaseAsync.LockTakeAsync"/>, released only by its holder (the mark must match), and freed by
/// Redis itself when the holder dies.
/// </summary>
internal sealed class RedisTokenLock(Func<Task<IConnectionMultiplexer>> connect, bool ownsConnection) : ISharedTokenLock, IAsyncDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private IConnectionMultiplexer? _connection;

    public async ValueTask<IAsyncDisposable?> TryTakeAsync(string key, TimeSpan expiry, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var database = (await ConnectionAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        var mark = Guid.NewGuid().ToString("N");
        return await database.LockTakeAsync(key, mark, expiry).ConfigureAwait(false) ? new Held(database, key, mark) : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (ownsConnection && _connection is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _connecting.Dispose();
    }

    // Connected once; a connection that failed to come up is asked for again by the next lock.
    private async ValueTask<IConnectionMultiplexer> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _connection) is { } connected)
        {
            return connected;
        }

        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _connection ??= await connect().ConfigureAwait(false);
        }
        finally
        {
            _connecting.Release();
        }
    }

    private sealed class Held(IDatabaseAsync database, string key, string mark) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await database.LockReleaseAsync(key, mark).ConfigureAwait(false);
    }
}
