using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
        await Task.Delay(TimeSpan.FromSeconds(3)); // past its expiry (extended every 2/3 s: a slow machine still extends in time)

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
        // Its lock frees itself after its expiry: 2 s here, within the 5 s a holder sets, so another instance's.
        (await connection.GetDatabase().LockTakeAsync(instance.Key + ":lock", "dead", TimeSpan.FromSeconds(2))).Should().BeTrue();

        var watch = Stopwatch.StartNew();
        var token = await instance.GetTokenAsync();
        watch.Stop();

        token.Value.Should().Be("token-1");
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1), "it waited for the lock").And.BeLessThan(SharedTokenLevel.LockExpiry + TimeSpan.FromSeconds(5));
        fleet.Endpoint.RequestCount.Should().Be(1);
    }

    [RedisFact]
    public async Task ALockWithNoExpiry_OrALongerOneThanAHolderSets_IsNotWaitedFor_AndIsLeftAlone()
    {
        var logs = new CapturingLoggerProvider();
        await using var services = Services(instanceName: null, logs);
        var locks = services.GetRequiredService<ISharedTokenLock>();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        var database = connection.GetDatabase();
        var forever = $"lock-{Guid.NewGuid():N}";
        var hour = $"lock-{Guid.NewGuid():N}";
        var peer = $"lock-{Guid.NewGuid():N}";
        await database.StringSetAsync(forever, "someone-else");
        await database.StringSetAsync(hour, "someone-else", TimeSpan.FromHours(1));
        await database.StringSetAsync(peer, "another-instance", TimeSpan.FromSeconds(4));

        var onForever = await locks.TryTakeAsync(forever, SharedTokenLevel.LockExpiry, CancellationToken.None);
        var onHour = await locks.TryTakeAsync(hour, SharedTokenLevel.LockExpiry, CancellationToken.None);
        var onPeer = await locks.TryTakeAsync(peer, SharedTokenLevel.LockExpiry, CancellationToken.None);

        onForever.Should().NotBeNull("a lock nobody will ever release is not worth waiting for: go on as its holder");
        onHour.Should().NotBeNull();
        onPeer.Should().BeNull("a lock within a holder's expiry is another instance's: wait for its token");
        await onForever!.DisposeAsync();
        await onHour!.DisposeAsync();
        ((string?)await database.StringGetAsync(forever)).Should().Be("someone-else", "what is not ours is not released");
        ((string?)await database.StringGetAsync(hour)).Should().Be("someone-else");
        logs.Lines.Should().ContainSingle(l => l.Id.Name == "ForeignSharedLock" && l.Level == LogLevel.Warning)
            .Which.Text.Should().Contain(forever);
    }

    [RedisFact]
    public async Task AForeignLockWithNoExpiry_OnTheClientsKey_DoesNotStallAColdStart()
    {
        await using var fleet = new Fleet(_redis);
        var instance = fleet.Start();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        await connection.GetDatabase().StringSetAsync(instance.Key + ":lock", "co-tenant"); // no TTL

        // Without the check it waits TotalTimeout + the lock's expiry (35 s by default) for a holder that does not exist.
        var token = await instance.GetTokenAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        token.Value.Should().Be("token-1");
        fleet.Endpoint.RequestCount.Should().Be(1);
        instance.Count("ForeignSharedLock").Should().Be(1);
    }

    [RedisFact]
    public void TheContainer_DisposedSynchronously_DisposesTheLock()
    {
        var services = Services(instanceName: null);
        services.GetRequiredService<ISharedTokenLock>();

        var act = services.Dispose;

        act.Should().NotThrow();
    }

    private ServiceProvider Services(string? instanceName, CapturingLoggerProvider? logs = null)
    {
        var services = new ServiceCollection();
        if (logs is not null)
        {
            services.AddLogging(b => b.AddProvider(logs));
        }

        services.AddStackExchangeRedisCache(o =>
        {
            o.Configuration = _redis.Configuration;
            o.InstanceName = instanceName;
        });
        services.AddTokenClientRedisLock();
        return services.BuildServiceProvider();
    }
}
