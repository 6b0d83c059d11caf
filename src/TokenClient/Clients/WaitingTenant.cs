using TokenClient.Endpoint;

namespace TokenClient.Clients;

/// <summary>
/// A tenant the client had no room for when it was asked (<see cref="TokenClientOptions.MaxTenants"/> entries, each
/// still waiting for its token): every call asks for an entry again, and fails with a transient
/// <see cref="TokenRequestException"/> while there is still none, so that a handle taken then works once there is room.
/// </summary>
internal sealed class WaitingTenant(NamedClient owner, EntryKey key) : ITokenClient
{
    public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default) =>
        owner.TryEntry(key, out var entry)
            ? entry.GetTokenAsync(cancellationToken)
            : Full();

    public ValueTask<AccessToken> GetTokenAsync(TokenRequestParameters parameters, CancellationToken cancellationToken = default) =>
        owner.TryEntry(key, out var entry)
            ? entry.GetTokenAsync(parameters, cancellationToken)
            : Full();

    private ValueTask<AccessToken> Full() =>
        ValueTask.FromException<AccessToken>(TokenErrors.TenantsFull(owner.Definition.Name, owner.Definition.Options.MaxTenants));

    // A token this handle never served (it had no entry) may yet be the entry's own, if one was added since.
    public void Invalidate(AccessToken rejected) => owner.Existing(key)?.Invalidate(rejected);
}
