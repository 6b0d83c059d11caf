using Microsoft.Extensions.Configuration;
using static TokenClient.Configuration.OptionParsers;

namespace TokenClient.Configuration;

/// <summary>One configuration key of a client: its name, how it binds, and for the keys only some providers send, its value.</summary>
/// <param name="Name">The key, as <see cref="TokenClientOptions"/> names the property.</param>
/// <param name="Bind">Reads the key's section into the options; a bad value fails naming the configuration path.</param>
/// <param name="SentValue">For a key only some providers send (they list it in the provider's <c>UsedKeys</c>): its value.</param>
/// <param name="Value">The key's value, to compare two configurations.</param>
internal sealed record OptionKey(string Name, Action<TokenClientOptions, IConfigurationSection> Bind, Func<TokenClientOptions, object?> Value, Func<TokenClientOptions, string?>? SentValue = null);

/// <summary>
/// The one table of a client's configuration keys: it drives the binder, the check for unknown keys,
/// and the validation of keys a provider does not send.
/// </summary>
internal static class OptionKeys
{
    // The settings of the keys that have settings of their own (before the table, which binds with them).
    private static readonly Dictionary<string, Action<SigningKeyOptions, string?>> s_signingKeyParts = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(SigningKeyOptions.Path)] = (k, v) => k.Path = v,
        [nameof(SigningKeyOptions.Password)] = (k, v) => k.Password = v,
        [nameof(SigningKeyOptions.KeyId)] = (k, v) => k.KeyId = v,
        [nameof(SigningKeyOptions.Algorithm)] = (k, v) => k.Algorithm = v ?? k.Algorithm,
    };

    private static readonly Dictionary<string, Action<ClientCertificateOptions, string?>> s_clientCertificateParts = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(ClientCertificateOptions.Path)] = (c, v) => c.Path = v,
        [nameof(ClientCertificateOptions.Password)] = (c, v) => c.Password = v,
    };

    public static readonly OptionKey Scope = Sent(nameof(TokenClientOptions.Scope), (o, v) => o.Scope = v, o => o.Scope);
    public static readonly OptionKey Audience = Sent(nameof(TokenClientOptions.Audience), (o, v) => o.Audience = v, o => o.Audience);
    public static readonly OptionKey Resource = Sent(nameof(TokenClientOptions.Resource), (o, v) => o.Resource = v, o => o.Resource);
    public static readonly OptionKey Tenant = Sent(nameof(TokenClientOptions.Tenant), (o, v) => o.Tenant = v, o => o.Tenant);
    public static readonly OptionKey Domain = Sent(nameof(TokenClientOptions.Domain), (o, v) => o.Domain = v, o => o.Domain);
    public static readonly OptionKey Username = Sent(nameof(TokenClientOptions.Username), (o, v) => o.Username = v, o => o.Username);
    public static readonly OptionKey Password = Sent(nameof(TokenClientOptions.Password), (o, v) => o.Password = v, o => o.Password);

    /// <summary>Every key, by name, case-insensitive as configuration binding is.</summary>
    public static readonly IReadOnlyDictionary<string, OptionKey> All = new OptionKey[]
    {
        new(nameof(TokenClientOptions.Provider), (o, s) => o.Provider = s.Value!, o => o.Provider),
        new(nameof(TokenClientOptions.TokenEndpoint), (o, s) => o.TokenEndpoint = ParseUri(s), o => o.TokenEndpoint),
        new(nameof(TokenClientOptions.Authority), (o, s) => o.Authority = ParseUri(s), o => o.Authority),
        new(nameof(TokenClientOptions.ClientId), (o, s) => o.ClientId = s.Value, o => o.ClientId),
        new(nameof(TokenClientOptions.ClientSecret), (o, s) => o.ClientSecret = s.Value, o => o.ClientSecret),
        Scope,
        Audience,
        Resource,
        new(nameof(TokenClientOptions.ClientAuthentication), (o, s) => o.ClientAuthentication = ParseEnum<ClientAuthentication>(s), o => o.ClientAuthentication),
        new(nameof(TokenClientOptions.SigningKey), (o, s) => BindNested(o.SigningKey, s, s_signingKeyParts), o => SigningKeyValue(o.SigningKey)),
        new(nameof(TokenClientOptions.ClientCertificate), (o, s) => BindNested(o.ClientCertificate, s, s_clientCertificateParts), o => (o.ClientCertificate.Path, o.ClientCertificate.Password, o.ClientCertificate.Certificate)),
        new(nameof(TokenClientOptions.Dpop), (o, s) => o.Dpop = ParseBool(s), o => o.Dpop),
        Tenant,
        new(nameof(TokenClientOptions.Region), (o, s) => o.Region = ParseEnum<WllRegion>(s), o => o.Region),
        new(nameof(TokenClientOptions.Environment), (o, s) => o.Environment = ParseEnum<WllEnvironment>(s), o => o.Environment),
        Domain,
        Username,
        Password,
        new(nameof(TokenClientOptions.RefreshRatio), (o, s) => o.RefreshRatio = ParseDouble(s), o => o.RefreshRatio),
        new(nameof(TokenClientOptions.DefaultLifetime), (o, s) => o.DefaultLifetime = ParseTimeSpan(s), o => o.DefaultLifetime),
        new(nameof(TokenClientOptions.MaxRetries), (o, s) => o.MaxRetries = ParseInt(s), o => o.MaxRetries),
        new(nameof(TokenClientOptions.RetryDelay), (o, s) => o.RetryDelay = ParseTimeSpan(s), o => o.RetryDelay),
        new(nameof(TokenClientOptions.MaxRetryDelay), (o, s) => o.MaxRetryDelay = ParseTimeSpan(s), o => o.MaxRetryDelay),
        new(nameof(TokenClientOptions.AttemptTimeout), (o, s) => o.AttemptTimeout = ParseTimeSpan(s), o => o.AttemptTimeout),
        new(nameof(TokenClientOptions.TotalTimeout), (o, s) => o.TotalTimeout = ParseTimeSpan(s), o => o.TotalTimeout),
        new(nameof(TokenClientOptions.FailureCooldown), (o, s) => o.FailureCooldown = ParseTimeSpan(s), o => o.FailureCooldown),
        new(nameof(TokenClientOptions.MaxResponseSize), (o, s) => o.MaxResponseSize = ParseInt(s), o => o.MaxResponseSize),
        new(nameof(TokenClientOptions.MaxTenants), (o, s) => o.MaxTenants = ParseInt(s), o => o.MaxTenants),
        new(nameof(TokenClientOptions.AllowInsecureHttp), (o, s) => o.AllowInsecureHttp = ParseBool(s), o => o.AllowInsecureHttp),
        new(nameof(TokenClientOptions.SharedCache), (o, s) => o.SharedCache = ParseBool(s), o => o.SharedCache),
        new(nameof(TokenClientOptions.SharedCacheKeyPrefix), (o, s) => o.SharedCacheKeyPrefix = s.Value!, o => o.SharedCacheKeyPrefix),
        new(nameof(TokenClientOptions.SharedCacheTimeout), (o, s) => o.SharedCacheTimeout = ParseTimeSpan(s), o => o.SharedCacheTimeout),
        new(nameof(TokenClientOptions.AllowInsecureSharedCache), (o, s) => o.AllowInsecureSharedCache = ParseBool(s), o => o.AllowInsecureSharedCache),
        new(nameof(TokenClientOptions.Headers), (o, s) => BindPairs(o.Headers, s), o => Pairs(o.Headers)),
        new(nameof(TokenClientOptions.Parameters), (o, s) => BindPairs(o.Parameters, s), o => Pairs(o.Parameters)),
    }.ToDictionary(key => key.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The keys only some providers send.</summary>
    public static IEnumerable<OptionKey> SentByProvider => All.Values.Where(key => key.SentValue is not null);

    /// <summary>Whether two configurations agree on every key, secrets included.</summary>
    public static bool Same(TokenClientOptions a, TokenClientOptions b) => All.Values.All(key => Equals(key.Value(a), key.Value(b)));

    private static OptionKey Sent(string name, Action<TokenClientOptions, string?> set, Func<TokenClientOptions, string?> value) =>
        new(name, (o, s) => set(o, s.Value), value, value);

    /// <summary>Name/value pairs as one comparable value, in a fixed order.</summary>
    public static string Pairs(IEnumerable<KeyValuePair<string, string>> pairs) =>
        string.Join('\n', pairs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}\u0000{p.Value}"));

    // The key's settings, and the very key and certificate objects given in code.
    private static (string?, string?, string?, string, object?, object?) SigningKeyValue(SigningKeyOptions key) =>
        (key.Path, key.Password, key.KeyId, key.Algorithm, key.Key, key.Certificate);
}
