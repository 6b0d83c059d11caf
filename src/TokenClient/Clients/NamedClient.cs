using System.Collections.Concurrent;
using TokenClient.Caching;
using TokenClient.Diagnostics;
using TokenClient.Http;

namespace TokenClient.Clients;

/// <summary>
/// One configured client, alive for the container's lifetime: its current definition, the entry of its
/// own token, and the entries of the tenants and the token request parameters callers name (one per <see cref="EntryKey"/>). It is the handle users hold (the keyed
/// <see cref="ITokenClient"/>), so every handle follows the current definition.
/// </summary>
internal sealed class NamedClient : ITokenClient, ITokenSource, IDisposable
{
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<EntryKey, TenantEntry> _tenants = new(EntryKey.Comparer);
    private volatile ClientDefinition _definition;
    private volatile TenantEntry _own;
    private long _generation;
    private volatile bool _disposed;
    private bool _refusing; // guarded by _gate: a refusal at the cap has been logged, and no tenant was added since

    public NamedClient(ClientDefinition definition, ClientRuntime runtime)
    {
        Runtime = runtime;
        _definition = definition;
        _own = new TenantEntry(this, default, definition);
    }

    public ClientRuntime Runtime { get; }

    public ClientDefinition Definition => _definition;

    public HandlerPolicy Policy => _definition.Policy;

    public TokenClientMetrics Metrics => Runtime.Metrics;

    public DpopProofs Proofs => Runtime.ProofsOf(_definition.Name);

    /// <summary>Counts the sweeps: an entry remembers the one in which it was last used.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>The entries of tenants and parameters now (the client's own aside).</summary>
    public int TenantCount => _tenants.Count;

    /// <summary>The cache of the client's own tenant, for tests that watch a renewal.</summary>
    internal CachingTokenClient Cache => _own.Cache;

    public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default) => _own.GetTokenAsync(cancellationToken);

    public ValueTask<AccessToken> GetTokenAsync(TokenRequestParameters parameters, CancellationToken cancellationToken = default) =>
        _own.GetTokenAsync(parameters, cancellationToken);

    public void Invalidate(AccessToken rejected) => _own.Invalidate(rejected);

    /// <summary>
    /// The entry of a tenant (null: the client's own), created on first use; where the cap leaves no room now, a
    /// handle whose calls fail with a transient <see cref="TokenRequestException"/> until there is.
    /// </summary>
    public ITokenClient For(string? tenant) => For(new EntryKey(tenant, null));

    /// <summary>As <see cref="For(string?)"/>, for a tenant and the parameters of a call.</summary>
    public ITokenClient For(string? tenant, TokenRequestParameters? parameters) => For(new EntryKey(tenant, parameters));

    /// <summary>The entry of a key, created on first use; where the cap leaves no room now, a handle that waits for room.</summary>
    public ITokenClient For(EntryKey key) => TryEntry(key, out var entry) ? entry : new WaitingTenant(this, key);

    /// <summary>
    /// The entry of a key, created on first use, or false where the cap leaves no room now.
    /// </summary>
    /// <exception cref="ArgumentException">The key asks for what the client cannot send (the message names it).</exception>
    public bool TryEntry(EntryKey key, out TenantEntry entry)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (key.IsOwn)
        {
            entry = _own;
            return true;
        }

        if (_tenants.TryGetValue(key, out entry!))
        {
            return true;
        }

        if (key.Tenant is { } tenant)
        {
            TenantNames.ThrowIfTooLong(tenant);
        }

        return TryAdd(key, out entry);
    }

    /// <summary>The entry a tenant has now (null: the client's own), without adding one.</summary>
    public TenantEntry? Existing(string? tenant) => Existing(new EntryKey(tenant, null));

    /// <summary>The entry a key has now, without adding one.</summary>
    public TenantEntry? Existing(EntryKey key) => key.IsOwn ? _own : _tenants.GetValueOrDefault(key);

    /// <summary>
    /// Takes a new definition. Where the token's identity is the same, every entry keeps its cached token
    /// and its next request uses the new definition; where it changed (endpoint, client id, scope, audience,
    /// resource, tenant, provider, Dpop), every entry is replaced, so no token of the old identity is served.
    /// </summary>
    public void Update(ClientDefinition next)
    {
        lock (_gate)
        {
            var previous = _definition;
            _definition = next;
            // Dpop on or off changes the kind of token (bound to the client's key or not), as a new identity does.
            if (previous.Identity == next.Identity && previous.Options.Dpop == next.Options.Dpop)
            {
                _own.Use(next);
                foreach (var entry in _tenants.Values)
                {
                    entry.Use(next);
                }
            }
            else
            {
                var own = _own;
                _own = new TenantEntry(this, default, next);
                own.Retire();
                foreach (var (key, entry) in _tenants)
                {
                    _tenants.TryRemove(key, out _);
                    entry.Retire();
                }
            }

            // A lowered cap applies now, not at the next new tenant: an operator's choice, not a flood of names, so even a
            // tenant waiting for its token goes (its callers go on to a new entry, or fail fast at the cap).
            if (_tenants.Count > next.Options.MaxTenants)
            {
                MakeRoom(next.Options.MaxTenants, evenBusy: true);
            }
        }
    }

    /// <summary>
    /// Drops the token every entry holds, as if the API had rejected each: the next call of each tenant requests a
    /// new one (TokenClient.Testing's <c>Expire</c>).
    /// </summary>
    internal void DropAll()
    {
        foreach (var entry in _tenants.Values.Append(_own))
        {
            if (entry.Cache.Held is { } held)
            {
                entry.Invalidate(held);
            }

            // An acquisition under way may publish a token issued before this call: it is dropped once published.
            entry.Cache.PendingAcquisition?.ContinueWith(
                static (acquisition, state) =>
                {
                    if (acquisition.Exception is null && acquisition.IsCompletedSuccessfully)
                    {
                        ((TenantEntry)state!).Invalidate(acquisition.Result);
                    }
                },
                entry,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>Releases the tenants that went unused for a whole sweep and hold no valid token.</summary>
    public int Sweep()
    {
        var generation = Interlocked.Increment(ref _generation);
        var released = 0;
        foreach (var (key, entry) in _tenants)
        {
            if (entry.IsIdle(generation) && _tenants.TryRemove(KeyValuePair.Create(key, entry)))
            {
                entry.Retire();
                released++;
            }
        }

        return released;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _own.Retire();
            foreach (var entry in _tenants.Values)
            {
                entry.Retire();
            }

            _tenants.Clear();
        }
    }

    private bool TryAdd(EntryKey key, out TenantEntry entry)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_tenants.TryGetValue(key, out entry!))
            {
                return true;
            }

            _definition.ThrowIfRefused(key);

            var cap = _definition.Options.MaxTenants;
            if (_tenants.Count >= cap && !MakeRoom(cap, evenBusy: false))
            {
                if (!_refusing)
                {
                    _refusing = true;
                    Log.TenantsFull(Runtime.FactoryLogger, _definition.Name, cap);
                }

                return false;
            }

            _refusing = false;
            entry = new TenantEntry(this, key, _definition);
            _tenants[key] = entry;
            return true;
        }
    }

    // At the cap, the least recently used tenants go, a tenth of the cap at once, so that a stream of new tenant names
    // costs one sort per many additions, not one per addition. Never a tenant whose token request is under way, or that
    // is waiting for its first: evicting it would cancel the request its callers wait for, and they would add it again,
    // evicting another (a flood of requests for tokens nobody gets). Among those last used in the same sweep, the ones
    // used least often go first, then those used over the shortest span: a flood of new names before a busy tenant.
    // Whether the cap is no longer reached.
    private bool MakeRoom(int cap, bool evenBusy)
    {
        var generation = Generation;
        var target = Math.Max(0, cap - Math.Max(1, cap / 10));
        var oldest = _tenants
            .Where(pair => evenBusy || !pair.Value.IsBusy(generation))
            .OrderBy(pair => pair.Value.LastUse)
            .ThenBy(pair => pair.Value.Uses)
            .ThenBy(pair => pair.Value.LastUse - pair.Value.CreatedIn)
            .Take(_tenants.Count - target)
            .ToList();
        foreach (var (key, entry) in oldest)
        {
            _tenants.TryRemove(key, out _);
            entry.Retire();
        }

        if (oldest.Count > 0)
        {
            Log.TenantsEvicted(Runtime.FactoryLogger, _definition.Name, oldest.Count, cap);
        }

        return _tenants.Count < cap;
    }
}
