using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using TokenClient.Caching;
using TokenClient.Diagnostics;
using TokenClient.Endpoint;

namespace TokenClient.Sharing;

/// <summary>
/// The shared level of one tenant's cache, behind the in-memory one: an acquisition first looks for a token
/// another instance fetched; where there is none, one instance (the holder of the lock) requests it and
/// shares it, while the others wait for it. Whatever goes wrong with the shared cache, the acquisition goes
/// on with the token endpoint, as it would without sharing.
/// </summary>
internal sealed class SharedTokenLevel
{
    /// <summary>How long a lock holds after its holder stopped extending it (it died, or never released it).</summary>
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
    private readonly TimeSpan _totalTimeout;
    private readonly string _clientName;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public SharedTokenLevel(SharedTokenStore store, string key, SharingSettings settings, string clientName, TimeProvider time, ILogger logger)
    {
        _store = store;
        Key = key;
        _lockKey = key + ":lock";
        // A purpose per key: a value copied under another key (another tenant's, another client's) cannot be read there.
        _protector = (settings.Protector ?? store.DefaultProtector)?.CreateProtector(key);
        _timeout = settings.Timeout;
        _refreshRatio = settings.RefreshRatio;
        _totalTimeout = settings.TotalTimeout;
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
    /// <param name="held">The token held now (due or expired): a shared token is taken only when it is newer.</param>
    /// <param name="rejected">The last token the API rejected: never taken back.</param>
    /// <param name="endpoint">The token requests of this tenant.</param>
    /// <param name="renewing">Whether a valid token is still held (see <see cref="TokenEndpointClient.RequestTokenAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the acquisition.</param>
    public async Task<IssuedToken> AcquireAsync(AccessToken? held, AccessToken? rejected, TokenEndpointClient endpoint, bool renewing, CancellationToken cancellationToken)
    {
        var (ok, found) = await FindAsync(held, rejected, endpoint, report: true, cancellationToken).ConfigureAwait(false);

        // Until a token is found, or the shared cache fails: take the lock and fetch, or, while another instance
        // holds it (it extends it as long as it lives), wait for the token it will share; no longer than its own
        // token request may take, plus the lock's expiry. Measured on the system clock, as the lock's expiry is.
        var waiting = Stopwatch.StartNew();
        var patience = _totalTimeout + LockExpiry;
        var poll = s_firstPoll;
        while (ok && found is null)
        {
            var (locking, handle) = await _store.TryLockAsync(_lockKey, LockExpiry, _timeout, cancellationToken).ConfigureAwait(false);
            if (handle is not null)
            {
                // Whatever ends the look below (a token found, the entry retired, a cancellation), the lock goes with it;
                // only a request hands it on, to be released once its token is shared.
                var handedOn = false;
                try
                {
                    // Another instance may have shared a token between the miss and the lock.
                    (_, found) = await FindAsync(held, rejected, endpoint, report: false, cancellationToken).ConfigureAwait(false);
                    if (found is { } meanwhile)
                    {
                        return meanwhile;
                    }

                    handedOn = true;
                    return await RequestAndShareAsync(endpoint, renewing, handle, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    if (!handedOn)
                    {
                        SharedTokenStore.ReleaseAfter(Task.CompletedTask, handle);
                    }
                }
            }

            if (!locking || waiting.Elapsed >= patience)
            {
                // No lock to be had (none is registered, or it failed), or its holder took too long: fetch without it.
                return await RequestAndShareAsync(endpoint, renewing, handle: null, cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(poll, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            poll = Durations.Shorter(poll * 2, s_maxPoll);
            (ok, found) = await FindAsync(held, rejected, endpoint, report: false, cancellationToken).ConfigureAwait(false);
        }

        // A token another instance shared, or, the shared cache being out, one of this instance's own, not shared.
        return found ?? await endpoint.RequestTokenAsync(renewing, cancellationToken).ConfigureAwait(false);
    }

    // Ok false: the shared cache failed or is out. A value that is there but not to be taken (unreadable, due or
    // expired, rejected, no newer than the one held) is a miss: the next fetch replaces it. An unreadable value
    // is reported once per acquisition (report), not at every look while waiting.
    private async Task<(bool Ok, IssuedToken? Found)> FindAsync(AccessToken? held, AccessToken? rejected, TokenEndpointClient endpoint, bool report, CancellationToken cancellationToken)
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
        catch (Exception ex)
        {
            // Whatever fails here (another key ring, a corrupt or forged value, a key ring that cannot be loaded)
            // makes it a value this instance cannot take, never a failed acquisition.
            if (report)
            {
                Log.SharedValueUnreadable(_logger, _clientName, ex switch
                {
                    FormatException => ex.Message,
                    CryptographicException => "it was not protected with this instance's key ring, or not for this key",
                    _ => $"Data Protection failed, {ex.GetType().Name}",
                });
            }

            return (true, null);
        }

        if (now >= value.RenewAt
            || string.Equals(value.Token, rejected?.Value, StringComparison.Ordinal)
            || (held is not null && value.ExpiresAt <= held.ExpiresAt))
        {
            return (true, null);
        }

        var issued = new IssuedToken(value.ToToken(), now, _time.GetTimestamp(), RefreshToken: null, RenewAt: WithJitter(value.RenewAt, value.ExpiresAt));
        endpoint.Took(issued);
        Log.SharedTokenTaken(_logger, _clientName, value.ExpiresAt, issued.RenewAt!.Value);

        return (true, issued);
    }

    // The token request, then the token shared: written in the background (the caller has its token at once),
    // and the lock, if held, released once the write is done, so that the instances waiting find the token.
    private async Task<IssuedToken> RequestAndShareAsync(TokenEndpointClient endpoint, bool renewing, IAsyncDisposable? handle, CancellationToken cancellationToken)
    {
        var write = Task.CompletedTask;
        try
        {
            var issued = await endpoint.RequestTokenAsync(renewing, cancellationToken).ConfigureAwait(false);
            var token = issued.Token;
            var renewAt = issued.RenewalPoint(_refreshRatio);
            if (Protect(SharedTokenValue.From(token, renewAt).ToBytes()) is { } bytes)
            {
                write = _store.SetAsync(Key, bytes, token.ExpiresAt, _timeout);
            }

            return issued with { RenewAt = WithJitter(renewAt, token.ExpiresAt) };
        }
        finally
        {
            if (handle is not null)
            {
                SharedTokenStore.ReleaseAfter(write, handle);
            }
        }
    }

    private byte[]? Protect(byte[] bytes)
    {
        try
        {
            return _protector is null ? bytes : _protector.Protect(bytes);
        }
        catch (Exception ex)
        {
            // A key ring that cannot be loaded or made: this instance keeps its token, and shares nothing.
            Log.SharedValueNotWritten(_logger, ex, _clientName, ex.GetType().Name);
            return null;
        }
    }

    // Never earlier than the fetcher's renewal point; later by a random part of the margin before expiry.
    private static DateTimeOffset WithJitter(DateTimeOffset renewAt, DateTimeOffset expiresAt) =>
        renewAt + Durations.Shorter((expiresAt - renewAt) * (0.2 * Random.Shared.NextDouble()), s_maxJitter);
}
