namespace TokenClient;

/// <summary>
/// What one call asks of the token endpoint beyond the client's configuration: another scope, resources (RFC 8707), an
/// audience, extra fields, or a token that is not the cached one. A call that names none gets the client's configured
/// token. Each distinct set (every field but <see cref="ForceRenewal"/>) has a cache entry of its own.
/// </summary>
/// <remarks>
/// The collections given are copied when set: changing them afterwards changes nothing. Keep one instance per set of
/// parameters (a static field) and a call that finds its token cached allocates nothing.
/// </remarks>
public sealed record TokenRequestParameters
{
    private readonly string[]? _resources;
    private readonly KeyValuePair<string, string>[]? _parameters;
    private readonly IReadOnlyDictionary<string, string>? _parametersView;
    private int _hash;

    /// <summary>Asks for nothing more than the configuration: set the fields of interest in an initializer.</summary>
    public TokenRequestParameters()
    {
    }

    // A copy (a `with` expression) computes its own hash: the fields it changes are not those hashed yet.
    private TokenRequestParameters(TokenRequestParameters original)
    {
        Scope = original.Scope;
        _resources = original._resources;
        Audience = original.Audience;
        _parameters = original._parameters;
        _parametersView = original._parametersView;
        ForceRenewal = original.ForceRenewal;
    }

    /// <summary>The scope to ask for instead of the configured <c>Scope</c>; null for the configured one.</summary>
    public string? Scope { get; init; }

    /// <summary>
    /// The resources (RFC 8707) to ask for instead of the configured <c>Resource</c>, each an absolute URI, sent as one
    /// <c>resource</c> field each, in this order; null for the configured one, empty for none.
    /// </summary>
    public IReadOnlyList<string>? Resources
    {
        get => _resources;
        init => _resources = value?.ToArray();
    }

    /// <summary>The audience to ask for instead of the configured <c>Audience</c>; null for the configured one.</summary>
    public string? Audience { get; init; }

    /// <summary>Fields added to the token request; one that the configured <c>Parameters</c> also name takes their place.</summary>
    public IReadOnlyDictionary<string, string>? Parameters
    {
        get => _parametersView;
        init
        {
            if (value is null)
            {
                _parameters = null;
                _parametersView = null;
                return;
            }

            var copy = new Dictionary<string, string>(value, StringComparer.Ordinal);
            _parameters = [.. copy.OrderBy(pair => pair.Key, StringComparer.Ordinal)];
            _parametersView = copy.AsReadOnly();
        }
    }

    /// <summary>
    /// Skips the cached token and asks for a new one; callers who force at the same time share one request. The failure
    /// cooldown still applies, and the new token takes the old one's place for every caller of the same parameters.
    /// </summary>
    public bool ForceRenewal { get; init; }

    /// <summary>The extra fields ordered by name, as copied when set.</summary>
    internal ReadOnlySpan<KeyValuePair<string, string>> SortedParameters => _parameters;

    /// <summary>Whether the parameters change what the server issues (any field but <see cref="ForceRenewal"/>).</summary>
    internal bool ChangesToken => Scope is not null || _resources is not null || Audience is not null || _parameters is { Length: > 0 };

    /// <summary>Whether <paramref name="other"/> asks for the same token: every field but <see cref="ForceRenewal"/>, resources in order.</summary>
    internal bool SameToken(TokenRequestParameters other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        return string.Equals(Scope, other.Scope, StringComparison.Ordinal)
            && string.Equals(Audience, other.Audience, StringComparison.Ordinal)
            && SameResources(_resources, other._resources)
            && SameParameters(_parameters ?? [], other._parameters ?? []);
    }

    /// <summary>A hash of what <see cref="SameToken"/> compares, computed once.</summary>
    internal int TokenHash
    {
        get
        {
            var hash = _hash;
            if (hash == 0)
            {
                var combined = new HashCode();
                combined.Add(Scope, StringComparer.Ordinal);
                combined.Add(Audience, StringComparer.Ordinal);
                combined.Add(_resources?.Length ?? -1);
                foreach (var resource in _resources ?? [])
                {
                    combined.Add(resource, StringComparer.Ordinal);
                }

                foreach (var (name, value) in _parameters ?? [])
                {
                    combined.Add(name, StringComparer.Ordinal);
                    combined.Add(value, StringComparer.Ordinal);
                }

                hash = combined.ToHashCode() | 1; // never 0, which means "not computed yet"
                _hash = hash;
            }

            return hash;
        }
    }

    /// <summary>Whether both ask for the same: every field compared by content, resources in order, parameters by name.</summary>
    public bool Equals(TokenRequestParameters? other) => other is not null && ForceRenewal == other.ForceRenewal && SameToken(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ForceRenewal ? ~TokenHash : TokenHash;

    /// <summary>Describes the parameters by name, without their values (a scope or a field may be sensitive).</summary>
    public override string ToString()
    {
        var named = new List<string>(5);
        if (Scope is not null)
        {
            named.Add(nameof(Scope));
        }

        if (_resources is not null)
        {
            named.Add($"{_resources.Length} {nameof(Resources)}");
        }

        if (Audience is not null)
        {
            named.Add(nameof(Audience));
        }

        if (_parameters is { Length: > 0 })
        {
            named.Add($"{nameof(Parameters)} {string.Join(", ", _parameters.Select(pair => pair.Key))}");
        }

        if (ForceRenewal)
        {
            named.Add(nameof(ForceRenewal));
        }

        return named.Count == 0 ? "token request parameters: none" : $"token request parameters: {string.Join("; ", named)}";
    }

    private static bool SameResources(string[]? left, string[]? right)
    {
        if (left is null || right is null)
        {
            return left is null && right is null;
        }

        return left.AsSpan().SequenceEqual(right, StringComparer.Ordinal);
    }

    // A loop, not SequenceEqual: KeyValuePair has no equality of its own, and the default one boxes each pair.
    private static bool SameParameters(KeyValuePair<string, string>[] left, KeyValuePair<string, string>[] right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }

        for (var i = 0; i < left.Length; i++)
        {
            if (!string.Equals(left[i].Key, right[i].Key, StringComparison.Ordinal) || !string.Equals(left[i].Value, right[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
