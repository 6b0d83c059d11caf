using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TokenClient.Caching;
using TokenClient.Providers;

namespace TokenClient.DependencyInjection;

/// <summary>Owns one <see cref="CachingTokenClient"/> per cache key, created on first use.</summary>
internal sealed class TokenClientFactory : ITokenClientFactory, IDisposable
{
    private readonly IOptionsMonitor<TokenClientOptions> _options;
    private readonly TokenClientRegistry _registry;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ConcurrentDictionary<TokenCacheKey, Lazy<LiveClient>> _clients = new();
    private readonly IDisposable? _optionsChanged;

    public TokenClientFactory(
        IOptionsMonitor<TokenClientOptions> options,
        IOptions<TokenClientRegistry> registry,
        IHttpClientFactory httpClientFactory,
        TimeProvider? time = null,
        ILoggerFactory? loggerFactory = null)
    {
        _options = options;
        _registry = registry.Value;
        _httpClientFactory = httpClientFactory;
        _time = time ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _optionsChanged = _options.OnChange((_, name) => EndCooldowns(name));
    }

    public ITokenClient GetClient(string name) => GetCachingClient(name, tenant: null);

    public ITokenClient GetClient(string name, string tenant)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        return GetCachingClient(name, tenant);
    }

    public void Dispose()
    {
        _optionsChanged?.Dispose();
        foreach (var client in _clients.Values)
        {
            if (client.IsValueCreated)
            {
                client.Value.Cache.Dispose();
            }
        }
    }

    // A changed configuration (a rotated secret, a fixed client id) deserves a new try at once.
    private void EndCooldowns(string? name)
    {
        foreach (var (key, client) in _clients)
        {
            if (key.ClientName == name && client.IsValueCreated)
            {
                client.Value.Endpoint.EndCooldown();
            }
        }
    }

    private CachingTokenClient GetCachingClient(string name, string? tenant)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_registry.Contains(name))
        {
            throw new InvalidOperationException(
                $"No token client named '{name}' is registered; register it with services.AddTokenClient(\"{name}\", ...). Registered: {_registry.Describe()}.");
        }

        var options = _options.Get(name); // validates, and throws OptionsValidationException naming the key
        var shaper = ProviderRegistry.TryGet(options.Provider, out var found)
            ? found
            : throw new InvalidOperationException($"Token client '{name}': Provider '{options.Provider}' is not known."); // the validator reports this first
        var endpoint = options.TokenEndpoint ?? shaper.DefaultEndpoint(options)!;
        var key = new TokenCacheKey(name, endpoint, options.ClientId, options.Scope, options.Audience, options.Resource, tenant ?? options.Tenant);
        return _clients.GetOrAdd(key, k => new Lazy<LiveClient>(() => Create(k, options, shaper))).Value.Cache;
    }

    private LiveClient Create(TokenCacheKey key, TokenClientOptions options, TokenRequestShaper shaper)
    {
        var context = new TokenRequestContext(key.ClientName, options, key.Endpoint, key.Tenant);
        var endpoint = new TokenEndpointClient(
            context,
            shaper,
            _httpClientFactory,
            TokenClientRegistry.HttpClientName(key.ClientName),
            _time,
            _loggerFactory.CreateLogger<TokenEndpointClient>());
        var cache = new CachingTokenClient(key.ClientName, endpoint.RequestTokenAsync, options.RefreshRatio, _time, _loggerFactory.CreateLogger<CachingTokenClient>());
        return new LiveClient(cache, endpoint);
    }

    private sealed record LiveClient(CachingTokenClient Cache, TokenEndpointClient Endpoint);
}
