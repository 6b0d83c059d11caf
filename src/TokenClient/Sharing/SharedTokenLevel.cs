using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using TokenClient.Caching;
using TokenClient.Diagnostics;
using TokenClient.Providers;

namespace TokenClient.Sharing;

/// <summary>
/// The shared level of one tenant's cache, behind the in-memory one: an acquisition first looks for a token
/// another instance fetched; where there is none, one instance (the holder of the lock) requests it and
/// shares it, while the others wait for it. Whatever goes wrong with the shared cache, the acquisition goes
/// on with the token endpoint, as it would without sharing.
/// </summary>
internal sealed class SharedTokenLevel
{
    /// <summary>How long a lock holds when its holder never releases it; how long the others wait for it at most.</summary>
    internal static readonly TimeSpan LockExpiry = TimeSpan.FromSeconds(5);

    // The renewal of a token taken from the shared cache comes after its fetcher's, by up to a fifth of the
    // margin left before expiry and at most this: the instances of a fleet do not all renew at one moment.
    private static readonly TimeSpan s_maxJitter = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_firstPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_maxPoll = TimeSpan.FromMilliseconds(400);

    private readonly SharedTokenStore _store;
    private readonly string _lockKey;
    private readonly IDataProtector? _protector;
    private readonly TimeSpan _timeout;
    private readonly double _refreshRatio;
    private readonly string _clientName;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public SharedTokenLevel(SharedTokenStore store, string key, TokenClientOptions options, string clientName, TimeProvider time, ILogger logger)
    {
        _store = store;
        Key = key;
        _lockKey = key + ":lock";
        // A purpose per key: a value copied under another key (another tenant's, another client's) cannot be read there.
        _protector = (options.SharedCacheProtector ?? store.DefaultProtector)?.CreateProtector(key);
        _timeout = options.SharedCacheTimeout;
        _refreshRatio = options.RefreshRatio;
        _clientName = clientName;
        _time = time;
        _logger = logger;
    }

    /// <summary>The key of the token in the shared cache.</summary>
    public string Key { get; }

    /// <summary>
    /// The key of a tenant's token: the prefix, the client's name, and a hash of everything that defines the
    /// token (provider, endpoint, client id, scope, audience, resource, tenant…), so that a tenant name a caller
    /// chose cannot shape the key, and no secret is in it.
    /// </summary>
    public static string KeyFor(string prefix, string clientName, string identity)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(identity));
        return $"{prefix}{clientName}:{Convert.ToHexString(hash)}";
    }

    /// <summary>A token for the cache: one another instance shared, or one the endpoint issued (then shared).</summary>
    /// <param name="known">The token not to take (held and due, or rejected): finding it shared means nobody renewed it yet.</param>
    /// <param name="endpoint">The token requests of this tenant.</param>
    /// <param name="renewing">Whether a valid token is still held (see <see cref="TokenEndpointClient.RequestTokenAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the acquisition.</param>
    public async Task<IssuedToken> AcquireAsync(AccessToken? known, TokenEndpointClient endpoint, bool renewing, CancellationToken cancellationToken)
    {
        var (ok, found) = await FindAsync(known, endpoint, report: true, cancellationToken).ConfigureAwait(false);
        if (found is { } shared)
        {
            return shared;
        }

        if (!ok)
        {
            return await endpoint.RequestTokenAsync(renewing, cancellationToken).ConfigureAwait(false);
        }

        // Measured on the system clock, as the lock's own expiry is (in the shared cache).
        var waiting = Stopwatch.StartNew();
        var poll = s_firstPoll;
        while (true)
        {
            var (locking, handle) = await _store.TryLockAsync(_lockKey, LockExpiry, _timeout, cancellationToken).ConfigureAwait(false);
            if (!locking)
            {
                // No lock to be had: none is registered, or it failed.
                return await RequestAndShareAsync(endpoint, renewing, cancellationToken).ConfigureAwait(false);
            }

            if (handle is not null)
            {
                await using (handle.ConfigureAwait(false))
                {
                    // Another instance may have shared a token between the miss and the lock.
                    (_, found) = await FindAsync(known, endpoint, report: false, cancellationToken).ConfigureAwait(false);
                    return found ?? await RequestAndShareAsync(endpoint, renewing, cancellationToken).ConfigureAwait(false);
                }
            }

            if (waiting.Elapsed >= LockExpiry)
            {
                // The holder took longer than its lock lasts (it died, or its endpoint is slow): fetch without it.
                return await RequestAndShareAsync(endpoint, renewing, cancellationToken).ConfigureAwait(false);
            }

            // Another instance holds the lock: wait for the token it will share.
            await Task.Delay(poll, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            poll = Durations.Shorter(poll * 2, s_maxPoll);
            (ok, found) = await FindAsync(known, endpoint, report: false, cancellationToken).ConfigureAwait(false);
            if (found is { } awaited)
            {
                return awaited;
            }

            if (!ok)
            {
                return await endpoint.RequestTokenAsync(renewing, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // Ok false: the shared cache failed or is out. A value that is there but not to be taken (unreadable, the
    // known token, due or expired) is a miss: the next fetch replaces it. An unreadable value is reported once
    // per acquisition (report), not at every look while waiting.
    private async Task<(bool Ok, IssuedToken? Found)> FindAsync(AccessToken? known, TokenEndpointClient endpoint, bool report, CancellationToken cancellationToken)
    {
        var (ok, bytes) = await _store.GetAsync(Key, _timeout, cancellationToken).ConfigureAwait(false);
        if (!ok || bytes is null)
        {
            return (ok, null);
        }

        var now = _time.GetUtcNow();
        SharedTokenValue value;
        try
        {
            value = SharedTokenValue.Parse(_protector is null ? bytes : _protector.Unprotect(bytes), now);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            if (report)
            {
                Log.SharedValueUnreadable(_logger, _clientName, ex is FormatException ? ex.Message : "it was not protected with this instance's key ring");
            }

            return (true, null);
        }

        if (now >= value.RenewAt || string.Equals(value.Token, known?.Value, StringComparison.Ordinal))
        {
            return (true, null);
        }

        var issued = new IssuedToken(value.ToToken(), now, RefreshToken: null, RenewAt: WithJitter(value.RenewAt, value.ExpiresAt));
        endpoint.Took(issued);
        Log.SharedTokenTaken(_logger, _clientName, value.ExpiresAt, issued.RenewAt!.Value);
        return (true, issued);
    }

    private async Task<IssuedToken> RequestAndShareAsync(TokenEndpointClient endpoint, bool renewing, CancellationToken cancellationToken)
    {
        var issued = await endpoint.RequestTokenAsync(renewing, cancellationToken).ConfigureAwait(false);
        var token = issued.Token;
        var renewAt = issued.ReceivedAt + ((token.ExpiresAt - issued.ReceivedAt) * _refreshRatio);
        var bytes = SharedTokenValue.From(token, renewAt).ToBytes();
        await _store.SetAsync(Key, _protector is null ? bytes : _protector.Protect(bytes), token.ExpiresAt, _timeout).ConfigureAwait(false);
        return issued with { RenewAt = WithJitter(renewAt, token.ExpiresAt) };
    }

    // Never earlier than the fetcher's renewal point; later by a random part of the margin before expiry.
    private static DateTimeOffset WithJitter(DateTimeOffset renewAt, DateTimeOffset expiresAt) =>
        renewAt + Durations.Shorter((expiresAt - renewAt) * (0.2 * Random.Shared.NextDouble()), s_maxJitter);
}
