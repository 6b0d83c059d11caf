using TokenClient.Caching;
using TokenClient.Endpoint;
using TokenClient.Sharing;

namespace TokenClient.Clients;

/// <summary>
/// The cache of one tenant of a named client (or of the client's own tenant), and the token requests
/// behind it. It stays valid across configuration changes that keep the token's identity: its next
/// request uses the new definition. Once retired (replaced, or released while idle), it hands every
/// call on to the entry that took its place, so a handle held across the change keeps working.
/// </summary>
internal sealed class TenantEntry : ITokenClient
{
    // A use count that stops at this: enough to tell a tenant in use from a flood of names used once or twice.
    private const int UseCountLimit = 16;

    private readonly NamedClient _owner;
    private volatile TokenEndpointClient _endpoint;
    private volatile SharedTokenLevel? _shared;
    private volatile bool _retired;
    private long _lastUse;
    private int _uses;

    public TenantEntry(NamedClient owner, string? tenant, ClientDefinition definition)
    {
        _owner = owner;
        Tenant = tenant;
        _endpoint = owner.Runtime.EndpointClient(definition, tenant);
        _shared = owner.Runtime.SharedLevel(definition, tenant);
        _lastUse = CreatedIn = owner.Generation;
        Cache = new CachingTokenClient(definition.Name, RequestTokenAsync, definition.Options.RefreshRatio, owner.Runtime.Time, owner.Runtime.CacheLogger, owner.Runtime.Metrics.CacheOf(definition.Name));
    }

    /// <summary>The shared level behind the cache; null where the client does not share.</summary>
    internal SharedTokenLevel? Shared => _shared;

    /// <summary>The tenant; null for the client's own.</summary>
    public string? Tenant { get; }

    public CachingTokenClient Cache { get; }

    /// <summary>The sweep in which the entry was made.</summary>
    public long CreatedIn { get; }

    /// <summary>The sweep in which the entry was last used (see <see cref="NamedClient.Generation"/>).</summary>
    public long LastUse => Volatile.Read(ref _lastUse);

    /// <summary>How many times the entry was used, up to <see cref="UseCountLimit"/>.</summary>
    public int Uses => Volatile.Read(ref _uses);

    public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default)
    {
        if (_retired)
        {
            return _owner.For(Tenant).GetTokenAsync(cancellationToken);
        }

        // Plain writes, the one once per sweep, the other until the count stops: the hit path stays a few field reads.
        var generation = _owner.Generation;
        if (_lastUse != generation)
        {
            Volatile.Write(ref _lastUse, generation);
        }

        if (_uses < UseCountLimit)
        {
            _uses++; // a race loses a count, which only ranks the entry a little lower
        }

        var pending = Cache.GetTokenAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return pending;
        }

        return ForwardIfRetiredAsync(pending, cancellationToken);
    }

    // What the cache calls on a miss: the shared level where the client shares, else the endpoint.
    private Task<IssuedToken> RequestTokenAsync(bool renewing, CancellationToken cancellationToken) =>
        _shared is { } shared
            ? shared.AcquireAsync(Cache.Held, Cache.Rejected, _endpoint, renewing, cancellationToken)
            : _endpoint.RequestTokenAsync(renewing, cancellationToken);

    // A caller waiting on the acquisition of an entry that is retired meanwhile is not failed by it: it
    // goes on to the entry that took this one's place.
    private async ValueTask<AccessToken> ForwardIfRetiredAsync(ValueTask<AccessToken> pending, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        // Stryker disable once Logical : only a retired entry's disposal or the caller cancels the wait; a caller that cancelled is cancelled again by the next entry
        catch (OperationCanceledException) when (_retired && !cancellationToken.IsCancellationRequested)
        {
            return await _owner.For(Tenant).GetTokenAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Invalidate(AccessToken rejected)
    {
        if (_retired)
        {
            _owner.Existing(Tenant)?.Invalidate(rejected);

            return;
        }

        Cache.Invalidate(rejected);
    }

    /// <summary>
    /// The next token request uses this definition (same token identity): new credentials, settings and
    /// pipeline, no cooldown; the refresh token and the tokens to keep out of messages carry over.
    /// </summary>
    public void Use(ClientDefinition definition)
    {
        Cache.RefreshRatio = definition.Options.RefreshRatio;
        _endpoint = _owner.Runtime.EndpointClient(definition, Tenant, carryFrom: _endpoint);
        _shared = _owner.Runtime.SharedLevel(definition, Tenant);
    }

    /// <summary>Whether the entry went unused for a whole sweep, holds no token that is still valid, and no request is under way.</summary>
    public bool IsIdle(long generation) => LastUse < generation - 1 && !Cache.HoldsValidToken && !Cache.IsAcquiring;

    /// <summary>
    /// Whether evicting the entry would cancel what its callers wait for: a token request under way, or, in the sweep it
    /// was made in and the next, its first (made, not yet asked, or not yet answered).
    /// </summary>
    public bool IsBusy(long generation) =>
        Cache.IsAcquiring || (CreatedIn >= generation - 1 && Cache.Held is null && Cache.LastFailure is null);

    /// <summary>Stops the entry's timer; later calls go to whichever entry the owner holds for the tenant.</summary>
    public void Retire()
    {
        _retired = true;
        Cache.Dispose();
    }
}
