using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Polly;
using TokenClient.Configuration;
using TokenClient.Credentials;
using TokenClient.Caching;
using TokenClient.Endpoint;
using TokenClient.Http;
using TokenClient.Providers;
using TokenClient.Sharing;

namespace TokenClient.Clients;

/// <summary>
/// What one named client is, resolved once from its current options: the provider, the endpoint, the
/// HTTP client, the API's rejection rule, the headers, the Polly pipeline its tenants share. Built in
/// exactly one place (<see cref="Build"/>) and replaced whole when the options change.
/// </summary>
internal sealed class ClientDefinition
{
    private ClientDefinition(string name, TokenClientOptions options, RequestSettings settings, ProviderShaper shaper, Uri endpoint, ExchangeLimits limits, TimeProvider time, ILogger logger)
    {
        Name = name;
        Options = options;
        Settings = settings;
        Limits = limits;
        Shaper = shaper;
        Endpoint = endpoint;
        Pipeline = TokenRequestPipeline.Build(name, limits, time, logger);
        Policy = new HandlerPolicy(name, options.Headers.ToArray(), options.AllowInsecureHttp, shaper.IsTokenRejected);
        _secrets = new SecretRedactor(settings.ClientId, settings.ClientSecret, settings.Password);
        Metadata = options.TokenEndpoint is null && options.Authority is { } authority ? new AuthorityMetadata(authority, options.ClientAuthentication == ClientAuthentication.Tls, time) : null;
        Sharing = options.SharedCache ? new SharingSettings(options.SharedCacheProtector, options.SharedCacheTimeout, options.RefreshRatio, options.TotalTimeout) : null;
        Identity = new TokenIdentity(
            shaper.Name, endpoint, options.ClientId, options.Scope, options.Audience, options.Resource, options.Tenant,
            options.Environment, options.Username, OptionKeys.Pairs(options.Parameters));
    }

    private readonly SecretRedactor _secrets;
    private ClientAssertionSigner? _signer;
    private X509Certificate2? _certificate;

    public string Name { get; }

    public TokenClientOptions Options { get; }

    /// <summary>What its token requests say, resolved once from <see cref="Options"/>.</summary>
    public RequestSettings Settings { get; }

    /// <summary>The limits of its exchanges with the token endpoint, resolved once from <see cref="Options"/>.</summary>
    public ExchangeLimits Limits { get; }

    public ProviderShaper Shaper { get; }

    public Uri Endpoint { get; }

    public ResiliencePipeline<IssuedToken> Pipeline { get; }

    /// <summary>What the API handler applies: headers, the API's rejection rule, the plain-http rule.</summary>
    public HandlerPolicy Policy { get; }

    /// <summary>What the shared level needs, where the client shares its tokens (SharedCache); null otherwise.</summary>
    public SharingSettings? Sharing { get; }

    /// <summary>What defines the tokens this client gets: a token got under another identity is never served for this one.</summary>
    public TokenIdentity Identity { get; }

    public string HttpClientName => TokenEndpointTransport.HttpClientNameOf(Name);

    /// <summary>With an <see cref="TokenClientOptions.Authority"/> (and no TokenEndpoint): where its token endpoint is read, shared by its tenants.</summary>
    public AuthorityMetadata? Metadata { get; }

    /// <summary>With mutual TLS: the client's certificate, loaded when first needed (validated at start-up); null otherwise.</summary>
    public X509Certificate2? ClientCertificate => Options.ClientAuthentication != ClientAuthentication.Tls ? null
        : LazyInitializer.EnsureInitialized(ref _certificate, () => ClientCertificates.Load(Options.ClientCertificate));

    /// <summary>The key that signs this definition's client assertions, loaded when first needed (validated at start-up).</summary>
    public ClientAssertionSigner Signer => LazyInitializer.EnsureInitialized(ref _signer, () => ClientAssertionSigner.Load(Options.SigningKey));

    /// <summary>The provider and the endpoint the options name, or null where they name none (the validator says why).</summary>
    public static (ProviderShaper Shaper, Uri? Endpoint)? Resolve(TokenClientOptions options, ProviderCatalog? providers = null) =>
        Resolve(options, RequestSettings.From(options), providers);

    /// <summary>As above, with the settings of those options already resolved.</summary>
    public static (ProviderShaper Shaper, Uri? Endpoint)? Resolve(TokenClientOptions options, RequestSettings settings, ProviderCatalog? providers) =>
        (providers ?? ProviderCatalog.BuiltIn).TryGet(options.Provider, out var shaper) ? (shaper, options.TokenEndpoint ?? options.Authority ?? shaper.DefaultEndpoint(settings)) : null;

    /// <summary>The definition of validated options.</summary>
    public static ClientDefinition Build(string name, TokenClientOptions options, TimeProvider time, ILogger logger, ProviderCatalog? providers = null)
    {
        var settings = RequestSettings.From(options);
        var (shaper, endpoint) = Resolve(options, settings, providers) ?? throw new InvalidOperationException($"Token client '{name}': Provider '{options.Provider}' is not known.");
        return new ClientDefinition(
            name,
            options,
            settings,
            shaper,
            endpoint ?? throw new InvalidOperationException($"Token client '{name}': {shaper.MissingEndpointProblem}"),
            ExchangeLimits.From(options),
            time,
            logger);
    }

    /// <summary>What defines the tokens of a tenant (null: the client's own).</summary>
    public TokenIdentity IdentityOf(string? tenant) => IdentityOf(new EntryKey(tenant, null));

    /// <summary>What defines the tokens of an entry: the tenant's and the call's values in place of the configured ones.</summary>
    public TokenIdentity IdentityOf(EntryKey key)
    {
        var identity = key.Tenant is { } tenant ? Identity with { Tenant = tenant } : Identity;
        if (key.Parameters is not { } parameters)
        {
            return identity;
        }

        var settings = Settings.With(parameters);
        return identity with
        {
            Scope = settings.Scope,
            Audience = settings.Audience,
            Resource = string.Join(' ', settings.Resources), // a space is no part of a URI
            Parameters = OptionKeys.Pairs(settings.Parameters),
        };
    }

    /// <summary>What one entry's token requests need: the tenant's own, else the configured one; the call's parameters in place of the configured values.</summary>
    public TokenRequestContext ContextFor(EntryKey key) =>
        new(Name, Settings.With(key.Parameters), Limits, Endpoint, key.Tenant ?? Settings.Tenant, _secrets.ForAnotherTenant()) { Parameters = key.Parameters };

    /// <summary>Refuses a key whose parameters this client's provider cannot send, naming the parameter.</summary>
    /// <exception cref="ArgumentException">The parameters ask for what the provider cannot send.</exception>
    public void ThrowIfRefused(EntryKey key)
    {
        if (key.Parameters is { } parameters && ParameterRules.Problem(Shaper, parameters) is { } problem)
        {
            throw new ArgumentException($"Token client '{Name}': {problem}", nameof(parameters));
        }
    }
}

/// <summary>
/// Everything sent that changes the token of the client's own tenant (a tenant of its own replaces
/// <see cref="Tenant"/>): WLL's environment picks its audience, Wokelo's user name the account, and the
/// extra <c>Parameters</c> may name an audience or a resource too. Credentials and settings are not in it.
/// </summary>
internal readonly record struct TokenIdentity(
    string Provider, Uri Endpoint, string? ClientId, string? Scope, string? Audience, string? Resource, string? Tenant,
    WllEnvironment Environment, string? Username, string Parameters);
