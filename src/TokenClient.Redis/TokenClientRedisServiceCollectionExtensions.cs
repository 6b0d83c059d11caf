using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TokenClient;
using TokenClient.Redis;

// As the ecosystem does: registration extensions live in the namespace of IServiceCollection.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis lock of TokenClient's shared cache.</summary>
public static class TokenClientRedisServiceCollectionExtensions
{
    /// <summary>
    /// Lets the instances that share tokens (<see cref="TokenClientOptions.SharedCache"/>) take a lock on Redis, so
    /// that when several miss at once, one requests the token and the others wait for it. The lock uses the
    /// <see cref="IConnectionMultiplexer"/> in the container if there is one; otherwise the connection that
    /// <c>AddStackExchangeRedisCache</c> is configured with (a connection of its own from its
    /// <c>ConnectionMultiplexerFactory</c>, else from its <c>ConfigurationOptions</c> or <c>Configuration</c>).
    /// Lock names start with the cache's <c>InstanceName</c>, as its keys do. A lock is extended while its
    /// holder lives, and frees itself within 5 seconds of a holder that died.
    /// </summary>
    public static IServiceCollection AddTokenClientRedisLock(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<ISharedTokenLock>(sp =>
        {
            // Lock names carry the cache's InstanceName, as its values' keys do: apps that share one Redis apart never meet.
            var cache = sp.GetService<IOptions<RedisCacheOptions>>()?.Value;
            var prefix = cache?.InstanceName ?? "";
            var logger = LoggerOf(sp);
            if (sp.GetService<IConnectionMultiplexer>() is { } registered)
            {
                return new RedisTokenLock(() => Task.FromResult(registered), ownsConnection: false, prefix, logger);
            }

            // A ConnectionMultiplexerFactory makes a connection per call (RedisCache disposes the one it gets): the lock owns its own too.
            return cache?.ConnectionMultiplexerFactory is { } factory
                ? new RedisTokenLock(factory, ownsConnection: true, prefix, logger)
                : new RedisTokenLock(() => ConnectAsync(cache), ownsConnection: true, prefix, logger);
        });
        return services;
    }

    /// <summary>As <see cref="AddTokenClientRedisLock(IServiceCollection)"/>, on the connection <paramref name="connect"/> gives (called once, not disposed by TokenClient).</summary>
    public static IServiceCollection AddTokenClientRedisLock(this IServiceCollection services, Func<IServiceProvider, Task<IConnectionMultiplexer>> connect)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(connect);
        services.TryAddSingleton<ISharedTokenLock>(sp => new RedisTokenLock(() => connect(sp), ownsConnection: false, keyPrefix: "", LoggerOf(sp)));
        return services;
    }

    private static ILogger? LoggerOf(IServiceProvider services) => services.GetService<ILoggerFactory>()?.CreateLogger("TokenClient.Redis.RedisTokenLock");

    private static async Task<IConnectionMultiplexer> ConnectAsync(RedisCacheOptions? cache)
    {
        var options = cache?.ConfigurationOptions?.Clone()
            ?? (string.IsNullOrEmpty(cache?.Configuration)
                ? throw new InvalidOperationException(
                    "TokenClient's Redis lock has no Redis to connect to: register an IConnectionMultiplexer, configure " +
                    "AddStackExchangeRedisCache with Configuration or ConfigurationOptions, or call AddTokenClientRedisLock(connect).")
                : ConfigurationOptions.Parse(cache!.Configuration));

        // Down at start-up or later, the connection comes back by itself; until then each lock fails at once.
        options.AbortOnConnectFail = false;
        return await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
    }
}
