using TokenClient.Caching;
using TokenClient.Endpoint;
using TokenClient.Sharing;

namespace TokenClient.Clients;

/// <summary>
/// The cache of one key of a named client (a tenant, the parameters of a call, or neither: the client's own token), and
/// the token requests behind it. It stays valid across configuration changes that keep the token's identity: its next
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

    public TenantEntry(NamedClient owner, EntryKey key, ClientDefinition definition)
    {
        _owner = owner;
        Key = key;
        _endpoint = owner.Runtime.EndpointClient(definition, key);
        _shared = owner.Runtime.SharedLevel(definition, key);
        _lastUse = CreatedIn = owner.Generation;
        Cache = new CachingTokenClient(definition.Name, RequestTokenAsync, definition.Options.RefreshRatio, owner.Runtime.Time, owner.Runtime.CacheLogger, owner.Runtime.Metrics.CacheOf(definition.Name));
    }

    /// <summary>The shared level behind the cache; null where the client does not share.</summary>
    internal SharedTokenLevel? Shared => _shared;

    /// <summary>The tenant and the parameters the entry is for.</summary>
    public EntryKey Key { get; }

    /// <summary>The tenant; null for the client's own.</summary>
    public string? Tenant => Key.Tenant;

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
            return _owner.For(Key).GetTokenAsync(cancellationToken);
        }

        NoteUse();
        var pending = Cache.GetTokenAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return pending;
        }

        return ForwardIfRetiredAsync(pending, cancellationToken);
    }

    /// <summary>
    /// The token of this entry's tenant with these parameters: this entry's where they ask for what it holds (a renewal
    /// forced, or nothing), else the entry of the tenant and the parameters.
    /// </summary>
    public ValueTask<AccessToken> GetTokenAsync(TokenRequestParameters parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!Holds(parameters))
        {
            return _owner.For(Tenant, parameters).GetTokenAsync(parameters, cancellationToken);
        }

        return parameters.ForceRenewal ? RenewAsync(cancellationToken) : GetTokenAsync(cancellationToken);
    }

    /// <summary>A token newer than the one held now: one request for all who force at once (see <see cref="CachingTokenClient.RenewAsync"/>).</summary>
    public ValueTask<AccessToken> RenewAsync(CancellationToken cancellationToken)
    {
        if (_retired)
        {
            return _owner.TryEntry(Key, out var next) ? next.RenewAsync(cancellationToken) : _owner.For(Key).GetTokenAsync(cancellationToken);
        }

        NoteUse();
        return ForwardIfRetiredAsync(new ValueTask<AccessToken>(Cache.RenewAsync(cancellationToken)), cancellationToken);
    }

    // Whether the parameters ask for this entry's token: the same as its key's, or, where it has none, none that change it.
    private bool Holds(TokenRequestParameters parameters) => Key.Parameters is { } own ? own.SameToken(parameters) : !parameters.ChangesToken;

    private void NoteUse()
    {
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
            return await _owner.For(Key).GetTokenAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Invalidate(AccessToken rejected)
    {
        if (_retired)
        {
            _owner.Existing(Key)?.Invalidate(rejected);

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
        _endpoint = _owner.Runtime.EndpointClient(definition, Key, carryFrom: _endpoint);
        _shared = _owner.Runtime.SharedLevel(definition, Key);
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
