namespace TokenClient;

/// <summary>The rule for a tenant's name, checked wherever a caller gives one (GetClient, WithTokenTenant).</summary>
internal static class TenantNames
{
    /// <summary>The longest tenant name: with the cap on tenants, it bounds the bytes the names can hold.</summary>
    public const int MaxLength = 256;

    /// <summary>Refuses a tenant name over <see cref="MaxLength"/>, naming the limit.</summary>
    public static void ThrowIfTooLong(string tenant)
    {
        if (tenant.Length > MaxLength)
        {
            throw new ArgumentException($"A tenant name has at most {MaxLength} characters; this one has {tenant.Length}.", nameof(tenant));
        }
    }
}
