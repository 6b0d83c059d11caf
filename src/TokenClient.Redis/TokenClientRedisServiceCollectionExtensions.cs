using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
    /// <c>AddStackExchangeRedisCache</c> is configured with (its <c>ConnectionMultiplexerFactory</c>, else a
    /// connection of its own made from its <c>ConfigurationOptions</c> or <c>Configuration</c>).
    /// </summary>
    public static IServiceCollection AddTokenClientRedisLock(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<ISharedTokenLock>(sp =>
        {
            if (sp.GetService<IConnectionMultiplexer>() is { } registered)
            {
                return new RedisTokenLock(() => Task.FromResult(registered), ownsConnection: false);
            }

            var cache = sp.GetRequiredService<IOptions<RedisCacheOptions>>().Value;
            return cache.ConnectionMultiplexerFactory is { } factory
                ? new RedisTokenLock(factory, ownsConnection: false)
                : new RedisTokenLock(() => ConnectAsync(cache), ownsConnection: true);
        });
        return services;
    }

    /// <summary>As <see cref="AddTokenClientRedisLock(IServiceCollection)"/>, on the connection <paramref name="connect"/> gives (called once, not disposed by TokenClient).</summary>
    public static IServiceCollection AddTokenClientRedisLock(this IServiceCollection services, Func<IServiceProvider, Task<IConnectionMultiplexer>> connect)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(connect);
        services.TryAddSingleton<ISharedTokenLock>(sp => new RedisTokenLock(() => connect(sp), ownsConnection: false));
        return services;
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(RedisCacheOptions cache)
    {
        var options = cache.ConfigurationOptions?.Clone()
            ?? (string.IsNullOrEmpty(cache.Configuration)
                ? throw new InvalidOperationException(
                    "TokenClient's Redis lock has no Redis to connect to: register an IConnectionMultiplexer, configure " +
                    "AddStackExchangeRedisCache with Configuration or ConfigurationOptions, or call AddTokenClientRedisLock(connect).")
                : ConfigurationOptions.Parse(cache.Configuration));

        // Down at start-up or later, the connection comes back by itself; until then each lock fails at once.
        options.AbortOnConnectFail = false;
        return await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
    }
}
