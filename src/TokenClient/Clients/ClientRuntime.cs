using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TokenClient.Caching;
using TokenClient.Diagnostics;
using TokenClient.Endpoint;
using TokenClient.Http;
using TokenClient.Providers;
using TokenClient.Sharing;

namespace TokenClient.Clients;

/// <summary>
/// The container's services that every client's entries use, given by the registration. Two come as functions, called
/// when first needed: a client's own <see cref="IClientAssertionProvider"/> (keyed by its name), and the shared cache,
/// which a container whose clients do not share never resolves (and never connects to).
/// </summary>
internal sealed class ClientRuntime(
    IHttpClientFactory httpClientFactory,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    TokenClientMetrics metrics,
    ProviderCatalog providers,
    Func<string, IClientAssertionProvider?> assertionProviderOf,
    Func<ILogger, SharedTokenStore> createShared)
{
    private ConcurrentDictionary<string, DpopProofs>? _proofs;
    private SharedTokenStore? _shared;
    private ILogger? _factoryLogger;
    private ILogger? _sharedLogger;

    public TimeProvider Time { get; } = time;

    /// <summary>The built-in providers and those the user added.</summary>
    public ProviderCatalog Providers { get; } = providers;

    /// <summary>The container's instruments.</summary>
    public TokenClientMetrics Metrics { get; } = metrics;

    public ILogger CacheLogger { get; } = loggerFactory.CreateLogger<CachingTokenClient>();

    /// <summary>Made when first needed, as is the shared cache's: a serverless function's cold start makes neither.</summary>
    public ILogger FactoryLogger => _factoryLogger ??= loggerFactory.CreateLogger<TokenClientFactory>(); // two threads may each make one: either serves

    public ILogger EndpointLogger { get; } = loggerFactory.CreateLogger<TokenEndpointClient>();

    public ILogger SharedLogger => _sharedLogger ??= loggerFactory.CreateLogger<SharedTokenStore>();

    /// <summary>
    /// The shared cache, made when the first client that shares asks for it: a container whose clients do not
    /// share never resolves the distributed cache (and never connects to it).
    /// </summary>
    public SharedTokenStore Shared => LazyInitializer.EnsureInitialized(ref _shared, () => createShared(SharedLogger));

    /// <summary>The token requests of one tenant under one definition.</summary>
    public TokenEndpointClient EndpointClient(ClientDefinition definition, EntryKey key, TokenEndpointClient? carryFrom = null) =>
        new(definition.ContextFor(key), definition.Shaper, definition.Pipeline, httpClientFactory, definition.HttpClientName, Time, EndpointLogger, Metrics, AssertionsFor(definition), definition.Metadata,
            definition.Options.Dpop ? ProofsOf(definition.Name) : null, carryFrom);

    /// <summary>A client's DPoP key, made on first use and kept for the container's lifetime, through every reload of its configuration.</summary>
    public DpopProofs ProofsOf(string clientName) =>
        LazyInitializer.EnsureInitialized(ref _proofs, static () => new(StringComparer.Ordinal)).GetOrAdd(clientName, static (_, time) => new DpopProofs(time), Time);

    // private_key_jwt: the user's provider registered for the client, else the definition's signing key.
    private ClientAssertions? AssertionsFor(ClientDefinition definition)
    {
        if (definition.Options.ClientAuthentication != ClientAuthentication.PrivateKeyJwt)
        {
            return null;
        }

        var provider = assertionProviderOf(definition.Name);
        return new ClientAssertions(provider is null ? definition.Signer : null, provider, Time);
    }

    /// <summary>The shared level of one tenant under one definition, or null where the client does not share.</summary>
    public SharedTokenLevel? SharedLevel(ClientDefinition definition, EntryKey key)
    {
        if (definition.Sharing is not { } settings)
        {
            return null;
        }

        var sharedKey = SharedTokenLevel.KeyFor(definition.Options.SharedCacheKeyPrefix, definition.Name, definition.IdentityOf(key).ToString());
        return new SharedTokenLevel(Shared, sharedKey, settings, definition.Name, Time, SharedLogger);
    }
}
