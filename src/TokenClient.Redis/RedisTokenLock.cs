using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace TokenClient.Redis;

/// <summary>
/// The shared cache's lock on Redis: <c>SET key mark NX PX expiry</c>, extended every third of its expiry while its
/// holder lives, released only by its holder (the mark must match; one script each, one round trip, no transaction),
/// and freed by Redis itself when the holder dies. A lock with no expiry, or a longer one than any holder sets, is
/// nobody's that will ever let go (a co-tenant's key, a stray write): it is not waited for.
/// </summary>
internal sealed class RedisTokenLock(Func<Task<IConnectionMultiplexer>> connect, bool ownsConnection, string keyPrefix, ILogger? logger = null)
    : ISharedTokenLock, IAsyncDisposable, IDisposable
{
    // Takes the lock, or tells how long the one there has left (PTTL: -1 for no expiry).
    private const string TakeScript = "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -3 end return redis.call('pttl', KEYS[1])";
    private const long Taken = -3;
    private const long NoExpiry = -1;

    private static readonly Action<ILogger, string, Exception?> s_foreignLock = LoggerMessage.Define<string>(
        LogLevel.Warning,
        new EventId(24, "ForeignSharedLock"),
        "The shared token lock {Key} is held with no expiry, or a longer one than any TokenClient holder sets: it is not TokenClient's, and nobody waits for it; each instance fetches its token without it until the key is gone");

    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private IConnectionMultiplexer? _connection;
    private int _foreignReported;
    private volatile bool _disposed;

    public async ValueTask<IAsyncDisposable?> TryTakeAsync(string key, TimeSpan expiry, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var database = (await ConnectionAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        RedisKey name = keyPrefix + key;
        var mark = Guid.NewGuid().ToString("N");
        var milliseconds = (long)expiry.TotalMilliseconds;
        var left = (long)await database.ScriptEvaluateAsync(TakeScript, [name], [mark, milliseconds]).ConfigureAwait(false);
        if (left == Taken)
        {
            return new Held(database, name, mark, expiry);
        }

        if (left == NoExpiry || left > milliseconds)
        {
            if (Interlocked.Exchange(ref _foreignReported, 1) == 0)
            {
                s_foreignLock(_logger, name.ToString(), null);
            }

            return NotHeld.Instance; // go on as a holder would: fetch, and share; there is nothing to release
        }

        return null;
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

    /// <summary>In place of a lock that is nobody's to release: nothing held, nothing to release.</summary>
    private sealed class NotHeld : IAsyncDisposable
    {
        public static readonly NotHeld Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
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
