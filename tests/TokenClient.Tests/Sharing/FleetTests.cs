using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;
using TokenClient.Sharing;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Sharing;

/// <summary>
/// Eight instances (eight containers) of one service share a token through a real redis-server on 127.0.0.1.
/// Token lifetimes run on a fake clock that the instances share; Redis and its lock run on real time.
/// </summary>
public sealed class FleetTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly RedisServer _redis = redis.Server;

    [RedisFact]
    public async Task OneInstanceWarmsTheCache_SevenStartedLaterMakeNoRequest_AndAfterTheLifetimeOneMoreRequestInAll()
    {
        await using var fleet = new Fleet(_redis);
        var first = fleet.Start();
        var warm = await first.GetTokenAsync();

        var later = fleet.StartMany(7);
        var tokens = await Task.WhenAll(later.Select(i => i.GetTokenAsync().AsTask()));

        fleet.Endpoint.RequestCount.Should().Be(1);
        tokens.Select(t => t.Value).Should().AllBe(warm.Value);
        later.Should().AllSatisfy(i => i.Count("SharedTokenTaken").Should().Be(1));

        // Past the lifetime every instance misses at once: one of them fetches, the seven wait for its token.
        fleet.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        var renewed = await Task.WhenAll(later.Append(first).Select(i => i.GetTokenAsync().AsTask()));

        fleet.Endpoint.RequestCount.Should().Be(2);
        renewed.Select(t => t.Value).Distinct().Should().ContainSingle().Which.Should().NotBe(warm.Value);
    }

    [RedisFact]
    public async Task EightStartedAtOnceOnAColdCache_MakeOneRequest()
    {
        await using var fleet = new Fleet(_redis);
        fleet.Endpoint.Respond = async n =>
        {
            await Task.Delay(300); // long enough for every instance to miss while the first request runs
            return FakeTokenEndpoint.Token($"token-{n}", 3600);
        };
        var instances = fleet.StartMany(8);

        var tokens = await Task.WhenAll(instances.Select(i => Task.Run(() => i.GetTokenAsync().AsTask())));

        // One, here; two at most when a Redis call stalls past the timeout on a loaded machine (an outage: that
        // instance fetches its own), which is the bound the fleet promises.
        fleet.Endpoint.RequestCount.Should().BeInRange(1, 2);
        tokens.Select(t => t.Value).Should().OnlyContain(v => v == "token-1" || v == "token-2");
        tokens.GroupBy(t => t.Value).Max(g => g.Count()).Should().BeGreaterThanOrEqualTo(7, "all but the one that fetched alone share one token");
    }

    [RedisFact]
    public async Task AnInstanceThatTakesASharedToken_RenewsItWhenItsFetcherDoes_NotEarlier()
    {
        await using var fleet = new Fleet(_redis);
        var fetcher = fleet.Start();
        await fetcher.GetTokenAsync();
        var sharedRenewal = fleet.Time.GetUtcNow() + TimeSpan.FromSeconds(3240); // 90% of the hour
        fleet.Time.Advance(TimeSpan.FromMinutes(20));
        var taker = fleet.Start();
        await taker.GetTokenAsync();

        var renewAt = taker.Named.Cache.RenewAt!.Value;
        renewAt.Should().BeOnOrAfter(sharedRenewal).And.BeOnOrBefore(sharedRenewal + TimeSpan.FromSeconds(30));
        fetcher.Named.Cache.RenewAt!.Value.Should().BeOnOrAfter(sharedRenewal).And.BeOnOrBefore(sharedRenewal + TimeSpan.FromSeconds(30));

        // Just before the shared renewal point, the taker starts no renewal.
        fleet.Time.Advance(sharedRenewal - fleet.Time.GetUtcNow() - TimeSpan.FromSeconds(1));
        await taker.GetTokenAsync();
        taker.Named.Cache.PendingAcquisition.Should().BeNull();

        // Past both instances' renewal points, both renew in the background, and only one of them asks the endpoint.
        fleet.Time.Advance(TimeSpan.FromSeconds(32));
        await fetcher.GetTokenAsync();
        await taker.GetTokenAsync();
        await Task.WhenAll(new[] { fetcher, taker }.Select(i => i.Named.Cache.PendingAcquisition ?? Task.FromResult<AccessToken>(null!)));
        fleet.Endpoint.RequestCount.Should().Be(2);
        (await fetcher.GetTokenAsync()).Value.Should().Be("token-2");
        (await taker.GetTokenAsync()).Value.Should().Be("token-2");
    }

    [RedisFact]
    public async Task WhatRedisHolds_HasNoToken_InClearOrInBase64()
    {
        var secretToken = "tok_" + Convert.ToHexString(Guid.NewGuid().ToByteArray()) + Convert.ToHexString(Guid.NewGuid().ToByteArray());
        await using var fleet = new Fleet(_redis);
        fleet.Endpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Token(secretToken, 3600));
        await fleet.Start().GetTokenAsync();
        (await fleet.Start().GetTokenAsync()).Value.Should().Be(secretToken);
        fleet.Endpoint.RequestCount.Should().Be(1, "the second instance took the token from Redis");

        var stored = await fleet.StoredValuesAsync();

        stored.Should().NotBeEmpty();
        stored.Should().AllSatisfy(value => TokenForms.Find(value, secretToken).Should().BeNull());
        await using var connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        var ttl = await connection.GetDatabase().KeyTimeToLiveAsync((await fleet.KeysAsync()).Single());
        ttl.Should().BeGreaterThan(TimeSpan.FromMinutes(59)).And.BeLessThanOrEqualTo(TimeSpan.FromHours(1), "Redis drops the value when the token expires");
    }

    [RedisFact]
    public async Task WhatRedisHolds_WithEncryptionTurnedOff_HasTheToken_SoTheScanCanSeeOne()
    {
        var secretToken = "tok_" + Convert.ToHexString(Guid.NewGuid().ToByteArray());
        await using var fleet = new Fleet(_redis, o => o.AllowInsecureSharedCache = true);
        fleet.Endpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Token(secretToken, 3600));
        await fleet.Start(keyRing: null).GetTokenAsync();

        var stored = await fleet.StoredValuesAsync();

        stored.Select(value => TokenForms.Find(value, secretToken)).Should().Contain("in clear");
        (await fleet.Start(keyRing: null).GetTokenAsync()).Value.Should().Be(secretToken);
        fleet.Endpoint.RequestCount.Should().Be(1);
    }

    [RedisFact]
    public async Task TwoInstancesWithDifferentKeyRings_DoNotShare_AndNothingThrows()
    {
        await using var fleet = new Fleet(_redis);
        var mine = fleet.Start();
        var theirs = fleet.Start(keyRing: fleet.NewKeyRing());

        var first = await mine.GetTokenAsync();
        var second = await theirs.GetTokenAsync();

        second.Value.Should().NotBe(first.Value);
        fleet.Endpoint.RequestCount.Should().Be(2);
        theirs.Count("SharedValueUnreadable").Should().Be(1);
        theirs.Logs.Lines.Should().Contain(l => l.Text.Contains("(it was not protected with this instance's key ring, or not for this key)", StringComparison.Ordinal));

        // The value is theirs now: a new instance on my key ring cannot read it either, and fetches its own.
        var third = fleet.Start();
        (await third.GetTokenAsync()).Value.Should().NotBe(second.Value);
        fleet.Endpoint.RequestCount.Should().Be(3);
    }

    [RedisFact]
    public async Task ACorruptValueUnderTheKey_IsIgnoredAndReplaced()
    {
        await using var fleet = new Fleet(_redis);
        var first = fleet.Start();
        await first.GetTokenAsync();
        await first.Cache.SetAsync(first.Key, Encoding.UTF8.GetBytes("{\"v\":1,\"token\":\"forged\"}"));

        var second = fleet.Start();
        var replaced = await second.GetTokenAsync();

        replaced.Value.Should().Be("token-2");
        second.Count("SharedValueUnreadable").Should().Be(1);
        (await fleet.Start().GetTokenAsync()).Value.Should().Be("token-2", "the corrupt value was replaced by the new token");
        fleet.Endpoint.RequestCount.Should().Be(2);
    }

    [RedisFact]
    public async Task ForgedValues_OfEveryKind_AreNeverReturned()
    {
        await using var fleet = new Fleet(_redis);
        var writer = fleet.Start();
        var now = fleet.Time.GetUtcNow();
        var valid = SharedTokenValue.From(new AccessToken("forged", "Bearer", now.AddHours(1)), now.AddMinutes(54)).ToBytes();
        byte[][] forgeries =
        [
            valid, // well formed, but not protected with the key ring
            [],
            [0xFF, 0x00, 0x13],
            Encoding.UTF8.GetBytes(new string('A', 10_000)),
        ];

        foreach (var forged in forgeries)
        {
            await writer.Cache.SetAsync(writer.Key, forged);
            var instance = fleet.Start();
            (await instance.GetTokenAsync()).Value.Should().NotBe("forged").And.StartWith("token-");

            // The instance shares its token in the background: let that write land before the next forgery, or it would
            // overwrite the forgery and the next instance would take a real token (seen once on a loaded machine).
            for (var look = 0; look < 200 && await writer.Cache.GetAsync(writer.Key) is { } stored && stored.AsSpan().SequenceEqual(forged); look++)
            {
                await Task.Delay(25);
            }
        }

        fleet.Endpoint.RequestCount.Should().Be(forgeries.Length);
    }

    [RedisFact]
    public async Task RedisKilledMidRun_EveryCallerStillGetsAValidTokenQuickly_AndSharingResumesWhenRedisIsBack()
    {
        await using var redis = await RedisServer.StartOwnAsync();
        await using var fleet = new Fleet(redis, timeout: TimeSpan.FromSeconds(1));
        var instances = fleet.StartMany(8);
        await Task.WhenAll(instances.Select(i => i.GetTokenAsync().AsTask()));
        instances.Should().AllSatisfy(i => i.Named.Cache.ExpiresAt.Should().NotBeNull());
        var beforeOutage = fleet.Endpoint.RequestCount;
        var reportedBefore = instances.Select(i => i.Count("SharedCacheUnavailable")).ToArray();

        await redis.KillAsync();
        fleet.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        for (var round = 0; round < 3; round++)
        {
            var calls = instances.Select(async instance =>
            {
                var watch = Stopwatch.StartNew();
                var token = await instance.GetTokenAsync();
                watch.Stop();
                instance.Client.Invalidate(token); // the next round must acquire again
                return (token, watch.Elapsed);
            });
            foreach (var (token, elapsed) in await Task.WhenAll(calls))
            {
                token.ExpiresAt.Should().BeAfter(fleet.Time.GetUtcNow());
                elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3));
            }
        }

        fleet.Endpoint.RequestCount.Should().Be(beforeOutage + (3 * 8), "without Redis each instance fetches its own");
        // Reported once per outage, not per call: each instance at most once in the three rounds (none, if a stall
        // while the fleet warmed up had already started an outage that it never saw end), and every one has.
        instances.Select((i, n) => i.Count("SharedCacheUnavailable") - reportedBefore[n]).Should().OnlyContain(more => more <= 1);
        instances.Should().AllSatisfy(i => i.Count("SharedCacheUnavailable").Should().BeGreaterThan(0));

        await redis.StartAsync();
        var writer = instances[0];
        var watchBack = Stopwatch.StartNew();
        while ((await fleet.StoredValuesAsync()).Count == 0)
        {
            watchBack.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "the instance reconnects to Redis by itself");
            fleet.Time.Advance(SharedTokenStore.OutageRetry);
            writer.Client.Invalidate(await writer.GetTokenAsync());
            await writer.GetTokenAsync();
            await Task.Delay(100);
        }

        writer.Count("SharedCacheRestored").Should().Be(1);
        var shared = await writer.GetTokenAsync();

        // Another instance reconnects on its own time; once it has, it takes the writer's token from Redis.
        var reader = instances[1];
        var taken = await WithinAsync(async () =>
        {
            fleet.Time.Advance(SharedTokenStore.OutageRetry);
            var token = await reader.GetTokenAsync();
            if (token.Value != shared.Value)
            {
                reader.Client.Invalidate(token); // its own, fetched while it could not reach Redis: try again
            }

            return token;
        }, t => t.Value == shared.Value);
        taken.Value.Should().Be(shared.Value);

        // And a new instance takes it without a request.
        var requests = fleet.Endpoint.RequestCount;
        (await fleet.Start().GetTokenAsync()).Value.Should().Be(shared.Value);
        fleet.Endpoint.RequestCount.Should().Be(requests);
    }

    // Redis comes back on its own time: a reader's connection may reconnect an attempt after the writer's.
    private static async Task<T> WithinAsync<T>(Func<Task<T>> attempt, Func<T, bool> done)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var result = await attempt();
            if (done(result) || watch.Elapsed > TimeSpan.FromSeconds(60))
            {
                return result;
            }

            await Task.Delay(100);
        }
    }
}
