using StackExchange.Redis;

namespace TokenClient.Redis;

/// <summary>
/// The shared cache's lock on Redis: <c>SET key mark NX PX expiry</c> through StackExchange.Redis's
/// <see cref="IDatabaseAsync.LockTakeAsync"/>, extended every third of its expiry while its holder lives,
/// released only by its holder (the mark must match; one script each, one round trip, no transaction), and
/// freed by Redis itself when the holder dies.
/// </summary>
internal sealed class RedisTokenLock(Func<Task<IConnectionMultiplexer>> connect, bool ownsConnection, string keyPrefix) : ISharedTokenLock, IAsyncDisposable, IDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private IConnectionMultiplexer? _connection;
    private volatile bool _disposed;

    public async ValueTask<IAsyncDisposable?> TryTakeAsync(string key, TimeSpan expiry, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var database = (await ConnectionAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        RedisKey name = keyPrefix + key;
        var mark = Guid.NewGuid().ToString("N");
        return await database.LockTakeAsync(name, mark, expiry).ConfigureAwait(false) ? new Held(database, name, mark, expiry) : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (Dispose(out var connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (Dispose(out var connection))
        {
            connection.Dispose();
        }
    }

    // Marks the lock disposed; the connection to dispose, if it is ours. The semaphore is left to the collector:
    // a connect still running may yet release it.
    private bool Dispose(out IConnectionMultiplexer connection)
    {
        _disposed = true;
        connection = Interlocked.Exchange(ref _connection, null)!;
        return ownsConnection && connection is not null;
    }

    // Connected once; a connection that failed to come up is asked for again by the next lock.
    private async ValueTask<IConnectionMultiplexer> ConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Volatile.Read(ref _connection) is { } connected)
        {
            return connected;
        }

        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is { } other)
            {
                return other;
            }

            var made = await connect().ConfigureAwait(false);
            if (_disposed)
            {
                // Disposed while connecting: the connection is not kept, and, if ours, not leaked.
                if (ownsConnection)
                {
                    await made.DisposeAsync().ConfigureAwait(false);
                }

                throw new ObjectDisposedException(nameof(RedisTokenLock));
            }

            return _connection = made;
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>A lock held: extended while the holder lives, released when it is done.</summary>
    private sealed class Held : IAsyncDisposable
    {
        private const string ExtendScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
        private const string ReleaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

        private readonly IDatabaseAsync _database;
        private readonly RedisKey _key;
        private readonly string _mark;
        private readonly CancellationTokenSource _done = new();
        private readonly Task _extending;

        public Held(IDatabaseAsync database, RedisKey key, string mark, TimeSpan expiry)
        {
            _database = database;
            _key = key;
            _mark = mark;
            _extending = ExtendAsync(expiry);
        }

        public async ValueTask DisposeAsync()
        {
            await _done.CancelAsync().ConfigureAwait(false);
            await _extending.ConfigureAwait(false);
            _done.Dispose();
            await _database.ScriptEvaluateAsync(ReleaseScript, [_key], [_mark]).ConfigureAwait(false);
        }

        // Every third of the expiry, for as long as the holder has not released it; a lock found lost (expired,
        // taken by another) stops the extending, and a failed extension is left to the expiry.
        private async Task ExtendAsync(TimeSpan expiry)
        {
            var milliseconds = (long)expiry.TotalMilliseconds;
            try
            {
                while (true)
                {
                    await Task.Delay(expiry / 3, _done.Token).ConfigureAwait(false);
                    if ((long)await _database.ScriptEvaluateAsync(ExtendScript, [_key], [_mark, milliseconds]).ConfigureAwait(false) == 0)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (RedisException)
            {
            }
        }
    }
}
