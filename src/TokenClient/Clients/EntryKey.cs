namespace TokenClient.Clients;

/// <summary>
/// What a cache entry of a named client is for: a tenant (null: the configured one) and the parameters of the call (null:
/// the configured ones). Parameters that change nothing (none, or only <see cref="TokenRequestParameters.ForceRenewal"/>)
/// are stored as null, so that they share the configured entry.
/// </summary>
internal readonly struct EntryKey
{
    public EntryKey(string? tenant, TokenRequestParameters? parameters)
    {
        Tenant = tenant;
        Parameters = parameters is { ChangesToken: true } ? parameters : null;
    }

    public string? Tenant { get; }

    public TokenRequestParameters? Parameters { get; }

    /// <summary>The client's own entry: no tenant, no parameters.</summary>
    public bool IsOwn => Tenant is null && Parameters is null;

    /// <summary>Compares keys by content: the tenant ordinally, the parameters by what they ask for.</summary>
    public static IEqualityComparer<EntryKey> Comparer { get; } = new ContentComparer();

    private sealed class ContentComparer : IEqualityComparer<EntryKey>
    {
        public bool Equals(EntryKey x, EntryKey y) =>
            string.Equals(x.Tenant, y.Tenant, StringComparison.Ordinal)
            && (x.Parameters is null ? y.Parameters is null : y.Parameters is not null && x.Parameters.SameToken(y.Parameters));

        public int GetHashCode(EntryKey key) => HashCode.Combine(key.Tenant is null ? 0 : StringComparer.Ordinal.GetHashCode(key.Tenant), key.Parameters?.TokenHash ?? 0);
    }
}
