using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using TokenClient.Sharing;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Sharing;

/// <summary>The lock of TokenClient.Redis against a real redis-server: held while its holder lives, freed when it dies.</summary>
public sealed class RedisTokenLockTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly RedisServer _redis = redis.Server;

    [RedisFact]
    public async Task AHeldLock_IsExtendedPastItsExpiry_AndFreeOnceReleased()
    {
        await using var services = Services(instanceName: "app-one:");
        var locks = services.GetRequiredService<ISharedTokenLock>();
        var key = $"lock-{Guid.NewGuid():N}";

        var handle = await locks.TryTakeAsync(key, TimeSpan.FromSeconds(2), CancellationToken.None);
        handle.Should().NotBeNull();
        await Task.Delay(TimeSpan.FromSeconds(5)); // two and a half expiries

        (await locks.TryTakeAsync(key, TimeSpan.FromSeconds(2), CancellationToken.None)).Should().BeNull("the holder still lives, and extends it");
        await using var connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        (await connection.GetDatabase().KeyExistsAsync("app-one:" + key)).Should().BeTrue("the lock's name carries the cache's InstanceName");

        await handle!.DisposeAsync();
        var again = await locks.TryTakeAsync(key, TimeSpan.FromSeconds(1), CancellationToken.None);
        again.Should().NotBeNull();
        await again!.DisposeAsync();
    }

    [RedisFact]
    public async Task AHolderThatDied_BlocksTheFleetNoLongerThanTheLocksExpiry()
    {
        await using var fleet = new Fleet(_redis);
        var instance = fleet.Start();
        // A holder that took the lock and died at once: nobody extends it, nobody releases it.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        (await connection.GetDatabase().LockTakeAsync(instance.Key + ":lock", "dead", SharedTokenLevel.LockExpiry)).Should().BeTrue();

        var watch = Stopwatch.StartNew();
        var token = await instance.GetTokenAsync();
        watch.Stop();

        token.Value.Should().Be("token-1");
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1), "it waited for the lock").And.BeLessThan(SharedTokenLevel.LockExpiry + TimeSpan.FromSeconds(5));
        fleet.Endpoint.RequestCount.Should().Be(1);
    }

    [RedisFact]
    public void TheContainer_DisposedSynchronously_DisposesTheLock()
    {
        var services = Services(instanceName: null);
        services.GetRequiredService<ISharedTokenLock>();

        var act = services.Dispose;

        act.Should().NotThrow();
    }

    private ServiceProvider Services(string? instanceName)
    {
        var services = new ServiceCollection();
        services.AddStackExchangeRedisCache(o =>
        {
            o.Configuration = _redis.Configuration;
            o.InstanceName = instanceName;
        });
        services.AddTokenClientRedisLock();
        return services.BuildServiceProvider();
    }
}
