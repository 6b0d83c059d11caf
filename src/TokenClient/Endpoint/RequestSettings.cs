namespace TokenClient.Endpoint;

/// <summary>
/// What a client's token requests say, resolved once from its validated options when its definition is built: the
/// credentials and the fields a provider sends. Immutable: a configuration change builds a new definition and new settings.
/// </summary>
internal sealed record RequestSettings
{
    public string? ClientId { get; init; }

    public string? ClientSecret { get; init; }

    public ClientAuthentication ClientAuthentication { get; init; }

    public string? Scope { get; init; }

    public string? Audience { get; init; }

    /// <summary>The resources (RFC 8707), one <c>resource</c> field each, in order.</summary>
    public IReadOnlyList<string> Resources { get; init; } = [];

    /// <summary>The configured tenant: the one a caller that names none gets.</summary>
    public string? Tenant { get; init; }

    public WllRegion Region { get; init; }

    public WllEnvironment Environment { get; init; }

    public string? Domain { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Whether tokens are bound to a DPoP key (RFC 9449): a DPoP token type is then accepted.</summary>
    public bool Dpop { get; init; }

    /// <summary>The extra fields, in the order configured.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; init; } = [];

    /// <summary>The options as configured, for a user's <see cref="TokenProvider"/> alone: its public methods take them.</summary>
    public required TokenClientOptions ProviderOptions { get; init; }

    /// <summary>
    /// These settings with a call's parameters in place of the configured values: its scope, audience and resources where
    /// it gives them, and its fields after the configured ones (one of the same name takes the configured one's place).
    /// </summary>
    public RequestSettings With(TokenRequestParameters? parameters)
    {
        if (parameters is not { ChangesToken: true })
        {
            return this;
        }

        var extra = parameters.SortedParameters;
        var merged = new List<KeyValuePair<string, string>>(Parameters.Count + extra.Length);
        foreach (var pair in Parameters)
        {
            if (!Names(extra, pair.Key))
            {
                merged.Add(pair);
            }
        }

        merged.AddRange(extra);
        return this with
        {
            Scope = parameters.Scope ?? Scope,
            Audience = parameters.Audience ?? Audience,
            Resources = parameters.Resources ?? Resources,
            Parameters = merged,
        };
    }

    private static bool Names(ReadOnlySpan<KeyValuePair<string, string>> pairs, string name)
    {
        foreach (var pair in pairs)
        {
            if (string.Equals(pair.Key, name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The settings of validated options.</summary>
    public static RequestSettings From(TokenClientOptions options) => new()
    {
        ClientId = options.ClientId,
        ClientSecret = options.ClientSecret,
        ClientAuthentication = options.ClientAuthentication,
        Scope = options.Scope,
        Audience = options.Audience,
        Resources = string.IsNullOrEmpty(options.Resource) ? [] : [options.Resource],
        Tenant = options.Tenant,
        Region = options.Region,
        Environment = options.Environment,
        Domain = options.Domain,
        Username = options.Username,
        Password = options.Password,
        Dpop = options.Dpop,
        Parameters = options.Parameters.ToArray(),
        ProviderOptions = options,
    };
}
