using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Sharing;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Sharing;

/// <summary>The shared level without a Redis: start-up checks, configuration, any IDistributedCache, a cache that never answers.</summary>
public sealed class SharedCacheTests
{
    [Fact]
    public void StartupValidation_SharingWithoutADistributedCache_SaysWhatToRegister()
    {
        using var services = new TestServices(o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; });

        var act = () => services.Provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle().Which.Should()
            .Be("Token client 'test': SharedCache needs an IDistributedCache in the container, and none is registered. " +
                "Register the one the instances share, such as services.AddStackExchangeRedisCache(o => o.Configuration = \"redis:6379\").");
    }

    [Fact]
    public void StartupValidation_SharingWithoutDataProtection_SaysHowToRegisterASharedKeyRing()
    {
        using var services = new TestServices(o => o.SharedCache = true, more: s => s.AddDistributedMemoryCache());

        var act = () => services.Provider.GetRequiredService<IStartupValidator>().Validate();

        var failure = act.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle().Subject;
        failure.Should().StartWith("Token client 'test': SharedCache encrypts tokens with ASP.NET Core Data Protection, and none is registered.")
            .And.Contain("services.AddDataProtection().SetApplicationName(")
            .And.Contain("PersistKeysToStackExchangeRedis")
            .And.Contain("every instance shares")
            .And.Contain("SharedCacheProtector")
            .And.Contain("AllowInsecureSharedCache");
    }

    [Fact]
    public void StartupValidation_SharingWithDataProtection_OrAProtector_OrEncryptionTurnedOff_Starts()
    {
        Action<TokenClientOptions>[] fine =
        [
            o => o.SharedCache = true, // with AddDataProtection below
            o => { o.SharedCache = true; o.SharedCacheProtector = new EphemeralDataProtectionProvider().CreateProtector("mine"); },
            o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; },
        ];
        for (var i = 0; i < fine.Length; i++)
        {
            var withDataProtection = i == 0;
            using var services = new TestServices(fine[i], more: s =>
            {
                s.AddDistributedMemoryCache();
                if (withDataProtection)
                {
                    s.AddDataProtection().UseEphemeralDataProtectionProvider();
                }
            });

            var act = () => services.Provider.GetRequiredService<IStartupValidator>().Validate();

            act.Should().NotThrow();
        }
    }

    [Theory]
    [InlineData("SharedCache", "yes", "Token client 'test': configuration 'SharedCache' is not true or false.")]
    [InlineData("SharedCacheTimeout", "soon", "Token client 'test': configuration 'SharedCacheTimeout' is not a time span such as 00:05:00.")]
    [InlineData("AllowInsecureSharedCache", "1", "Token client 'test': configuration 'AllowInsecureSharedCache' is not true or false.")]
    public async Task Configuration_ABadSharingValue_NamesItsKey(string key, string value, string expected)
    {
        await using var services = new TestServices(configuration: TestServices.Settings((key, value)), more: s => s.AddDistributedMemoryCache());

        var act = async () => await services.Client.GetTokenAsync();

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Failures.Should().Equal(expected);
    }

    [Theory]
    [InlineData("00:00:00.001", "SharedCacheTimeout must be from 00:00:00.010 to 00:01:00, not 00:00:00.0010000.")]
    [InlineData("00:02:00", "SharedCacheTimeout must be from 00:00:00.010 to 00:01:00, not 00:02:00.")]
    public void StartupValidation_ASharedCacheTimeoutOutOfRange_SaysTheRange(string value, string expected)
    {
        using var services = new TestServices(configuration: TestServices.Settings(("SharedCacheTimeout", value)));

        var act = () => services.Provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal($"Token client 'test': {expected}");
    }

    [Fact]
    public async Task Configuration_BindsEverySharingKey()
    {
        await using var services = new TestServices(
            configuration: TestServices.Settings(("SharedCache", "true"), ("SharedCacheKeyPrefix", "svc:"), ("SharedCacheTimeout", "00:00:02"), ("AllowInsecureSharedCache", "true")),
            more: s => s.AddDistributedMemoryCache());

        var options = services.Provider.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get(TestServices.ClientName);
        await services.Client.GetTokenAsync();

        options.SharedCache.Should().BeTrue();
        options.SharedCacheKeyPrefix.Should().Be("svc:");
        options.SharedCacheTimeout.Should().Be(TimeSpan.FromSeconds(2));
        options.AllowInsecureSharedCache.Should().BeTrue();
        services.Named.Existing(null)!.Shared!.Key.Should().MatchRegex("^svc:test:[0-9A-F]{64}$");
    }

    [Fact]
    public void Keys_DifferForEveryPartOfTheTokensIdentity_AndNeverHoldASecretOrATenantName()
    {
        using var services = new TestServices(o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; o.Scope = "read"; }, more: s => s.AddDistributedMemoryCache());
        var client = services.Named;

        var own = client.Existing(null)!.Shared!.Key;
        var tenant = ((TokenClient.Clients.TenantEntry)client.For("tenant-Ω:*?\r\n")).Shared!.Key;
        var other = ((TokenClient.Clients.TenantEntry)client.For("other")).Shared!.Key;

        new[] { own, tenant, other }.Should().OnlyHaveUniqueItems();
        tenant.Should().MatchRegex("^TokenClient:test:[0-9A-F]{64}$");
        new[] { own, tenant, other }.Should().AllSatisfy(k => k.Should().NotContain("client-secret").And.NotContain("tenant"));
    }

    [Fact]
    public async Task AnyDistributedCache_WithoutALock_InstancesStartedAfterOneHoldsTheTokenMakeNoRequest()
    {
        var shared = TestServices.SharedCache();
        var protector = new EphemeralDataProtectionProvider().CreateProtector("fleet");
        var instances = Enumerable.Range(0, 4).Select(_ => new TestServices(
            o => { o.SharedCache = true; o.SharedCacheProtector = protector; },
            more: s => s.AddSingleton<IDistributedCache>(shared))).ToList();
        try
        {
            var first = await instances[0].Client.GetTokenAsync();
            var later = await Task.WhenAll(instances.Skip(1).Select(i => i.Client.GetTokenAsync().AsTask()));

            later.Select(t => t.Value).Should().AllBe(first.Value);
            instances.Sum(i => i.TokenEndpoint.RequestCount).Should().Be(1);
        }
        finally
        {
            instances.ForEach(i => i.Dispose());
        }
    }

    [Fact]
    public async Task TheTokenTheApiRejected_IsNotTakenBackFromTheSharedCache()
    {
        var shared = TestServices.SharedCache();
        await using var services = new TestServices(o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; }, more: s => s.AddSingleton<IDistributedCache>(shared));
        var rejected = await services.Client.GetTokenAsync();

        services.Client.Invalidate(rejected);
        var next = await services.Client.GetTokenAsync();

        next.Value.Should().Be("token-2");
        services.TokenEndpoint.RequestCount.Should().Be(2);
        Encoding.UTF8.GetString((await shared.GetAsync(services.Named.Existing(null)!.Shared!.Key))!).Should().Contain("token-2");
    }

    [Fact]
    public async Task AValueEncryptedWithTheProtector_HoldsNoTokenInClear_AndOnlyTheProtectorReadsIt()
    {
        var shared = TestServices.SharedCache();
        var protector = new EphemeralDataProtectionProvider().CreateProtector("mine");
        await using var services = new TestServices(o => { o.SharedCache = true; o.SharedCacheProtector = protector; }, more: s => s.AddSingleton<IDistributedCache>(shared));
        var token = await services.Client.GetTokenAsync();

        var key = services.Named.Existing(null)!.Shared!.Key;
        var stored = (await shared.GetAsync(key))!;

        TokenForms.Find(stored, token.Value).Should().BeNull();
        var act = () => protector.Unprotect(stored);
        act.Should().Throw<CryptographicException>("the value is protected for its key, a purpose under the protector's");
        var value = SharedTokenValue.Parse(protector.CreateProtector(key).Unprotect(stored), services.Time.GetUtcNow());
        value.Token.Should().Be(token.Value);
        value.ExpiresAt.Should().Be(token.ExpiresAt);
        value.RenewAt.Should().Be(services.Time.GetUtcNow() + TimeSpan.FromSeconds(3240));
    }

    [Fact]
    public async Task AnEncryptedValueCopiedUnderAnotherTenantsKey_IsNotReadThere()
    {
        var shared = TestServices.SharedCache();
        var logs = new CapturingLoggerProvider();
        await using var services = new TestServices(
            o => { o.SharedCache = true; o.SharedCacheProtector = new EphemeralDataProtectionProvider().CreateProtector("mine"); },
            more: s => s.AddSingleton<IDistributedCache>(shared),
            logs: logs);
        var factory = services.Provider.GetRequiredService<ITokenClientFactory>();
        var victim = await factory.GetClient(TestServices.ClientName, "tenant-a").GetTokenAsync();

        // Someone who can write to the cache copies tenant a's value under tenant b's key.
        var client = services.Named;
        await shared.SetAsync(((TokenClient.Clients.TenantEntry)client.For("tenant-b")).Shared!.Key, (await shared.GetAsync(client.Existing("tenant-a")!.Shared!.Key))!);
        var other = await factory.GetClient(TestServices.ClientName, "tenant-b").GetTokenAsync();

        other.Value.Should().NotBe(victim.Value);
        services.TokenEndpoint.RequestCount.Should().Be(2);
        logs.Lines.Should().Contain(l => l.Id.Name == "SharedValueUnreadable");
    }

    [Fact]
    public void TheSharedKey_OfAConfiguration_StaysTheSameAcrossVersions_WhateverTheOrderOfItsParameters()
    {
        // Instances on two versions of the library (a rolling deployment) share tokens only if they compute the same key.
        // A change to what the key is made of changes this value: make it knowingly, and say so in the CHANGELOG.
        const string Expected = "TokenClient:test:807416D47D4486AD12BBCBD6D313652BBFAF2891B90F66E4385518736AA9260F";
        using var ordered = new TestServices(o => (o.Scope, o.Parameters["audience2"], o.Parameters["region"]) = ("orders", "b", "eu"));
        using var reversed = new TestServices(o => (o.Scope, o.Parameters["region"], o.Parameters["audience2"]) = ("orders", "eu", "b"));

        string KeyOf(TestServices services) => SharedTokenLevel.KeyFor("TokenClient:", TestServices.ClientName, services.Named.Definition.Identity.ToString());

        KeyOf(ordered).Should().Be(Expected);
        KeyOf(reversed).Should().Be(Expected);
    }

    [Fact]
    public async Task Reload_TurningSharingOnAndOff_AppliesFromTheNextAcquisition()
    {
        var shared = TestServices.SharedCache();
        var configuration = TestServices.Settings(("AllowInsecureSharedCache", "true"));
        await using var services = new TestServices(configuration: configuration, more: s => s.AddSingleton<IDistributedCache>(shared));
        var key = SharedTokenLevel.KeyFor("TokenClient:", TestServices.ClientName, services.Named.Definition.Identity.ToString());
        services.Client.Invalidate(await services.Client.GetTokenAsync());
        (await shared.GetAsync(key)).Should().BeNull("the client does not share yet");

        configuration["SharedCache"] = "true";
        configuration.Reload();
        services.Client.Invalidate(await services.Client.GetTokenAsync());
        var sharedToken = await services.Client.GetTokenAsync();

        Encoding.UTF8.GetString((await shared.GetAsync(key))!).Should().Contain(sharedToken.Value);

        configuration["SharedCache"] = "false";
        configuration.Reload();
        await shared.RemoveAsync(key);
        services.Client.Invalidate(sharedToken);
        await services.Client.GetTokenAsync();
        (await shared.GetAsync(key)).Should().BeNull("the client shares no more");
        services.TokenEndpoint.RequestCount.Should().Be(4);
    }

    [Fact]
    public async Task ACacheThatNeverAnswers_CostsOneTimeoutPerOutage_NotOnePerCall_AndNoCallerFails()
    {
        // A TCP server on 127.0.0.1 that takes connections and never answers: a Redis that hangs.
        using var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start();
        var accepted = new List<Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    accepted.Add(await blackHole.AcceptSocketAsync());
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });
        var logs = new CapturingLoggerProvider();
        await using var services = new TestServices(
            o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; o.SharedCacheTimeout = TimeSpan.FromMilliseconds(200); },
            more: s => s.AddStackExchangeRedisCache(r => r.Configuration = $"127.0.0.1:{((IPEndPoint)blackHole.LocalEndpoint).Port},connectTimeout=30000"),
            logs: logs);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            var token = await services.Client.GetTokenAsync();
            services.Client.Invalidate(token);
        }

        watch.Stop();
        services.TokenEndpoint.RequestCount.Should().Be(5);
        logs.Lines.Where(l => l.Id.Name == "SharedCacheUnavailable").Should().ContainSingle()
            .Which.Text.Should().Contain("no answer reading within 0.2 s").And.Contain("2026-01-01T00:00:05");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3), "one call waited 0.2 s; the other four did not call the cache at all");

        // Once the pause is over, the cache is tried again: one more timeout, still one report for the outage.
        services.Time.Advance(SharedTokenStore.OutageRetry);
        await services.Client.GetTokenAsync();
        logs.Lines.Count(l => l.Id.Name == "SharedCacheUnavailable").Should().Be(1);
        services.TokenEndpoint.RequestCount.Should().Be(6);
        blackHole.Stop();
    }

    [Fact]
    public async Task DataProtectionThatFails_ToProtectOrToUnprotect_NeverFailsAnAcquisition()
    {
        var shared = TestServices.SharedCache();
        var logs = new CapturingLoggerProvider();
        await using var services = new TestServices(
            o => { o.SharedCache = true; o.SharedCacheProtector = new FailingProtector(); },
            more: s => s.AddSingleton<IDistributedCache>(shared),
            logs: logs);
        var first = await services.Client.GetTokenAsync();
        var key = services.Named.Existing(null)!.Shared!.Key;
        (await shared.GetAsync(key)).Should().BeNull("a token that cannot be protected is not shared");

        await shared.SetAsync(key, [1, 2, 3]);
        services.Client.Invalidate(first);
        var second = await services.Client.GetTokenAsync();

        second.Value.Should().Be("token-2");
        logs.Lines.Should().Contain(l => l.Id.Name == "SharedValueNotWritten" && l.Text.Contains("InvalidOperationException", StringComparison.Ordinal));
        logs.Lines.Should().Contain(l => l.Id.Name == "SharedValueUnreadable" && l.Text.Contains("Data Protection failed, InvalidOperationException", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALockThatAnswersAfterItsCallerGaveUp_IsReleased_NotLeftToBlockTheFleet()
    {
        var slow = new SlowLock(TimeSpan.FromMilliseconds(300));
        await using var services = new TestServices(
            o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; o.SharedCacheTimeout = TimeSpan.FromMilliseconds(50); },
            more: s => s.AddDistributedMemoryCache().AddSingleton<ISharedTokenLock>(slow));

        var token = await services.Client.GetTokenAsync();

        token.Value.Should().Be("token-1");
        (await slow.Released.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
    }

    [Fact]
    public async Task ALockThatFails_LeavesTheCacheInUse_AndIsReportedOnce()
    {
        var shared = TestServices.SharedCache();
        var logs = new CapturingLoggerProvider();
        var protector = new EphemeralDataProtectionProvider().CreateProtector("fleet");
        void Sharing(TokenClientOptions o)
        {
            o.SharedCache = true;
            o.SharedCacheProtector = protector;
        }

        void Services(IServiceCollection s) => s.AddSingleton<IDistributedCache>(shared).AddSingleton<ISharedTokenLock>(new BrokenLock());
        await using var first = new TestServices(Sharing, more: Services, logs: logs);
        await using var second = new TestServices(Sharing, more: Services);

        for (var i = 0; i < 3; i++)
        {
            first.Client.Invalidate(await first.Client.GetTokenAsync());
            first.Time.Advance(SharedTokenStore.OutageRetry);
        }

        var fromFirst = await first.Client.GetTokenAsync();
        (await second.Client.GetTokenAsync()).Value.Should().Be(fromFirst.Value, "the cache works without its lock");
        second.TokenEndpoint.RequestCount.Should().Be(0);
        logs.Lines.Where(l => l.Id.Name == "SharedCacheUnavailable").Should().ContainSingle()
            .Which.Text.Should().StartWith("The shared token lock failed: taking its lock, RedisConnectionException");
        logs.Lines.Should().NotContain(l => l.Id.Name == "SharedCacheRestored", "the cache never failed, and the lock never came back");
    }

    [Fact]
    public async Task ASharedTokenNoNewerThanTheOneHeld_IsNotTaken_ButTheSameTokenReissuedLaterIs()
    {
        var shared = TestServices.SharedCache();
        await using var services = new TestServices(o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; }, more: s => s.AddSingleton<IDistributedCache>(shared));
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Token(n == 1 ? "static" : $"token-{n}", 3600));
        var held = await services.Client.GetTokenAsync();
        var key = services.Named.Existing(null)!.Shared!.Key;
        var start = services.Time.GetUtcNow();
        services.Time.Advance(TimeSpan.FromMinutes(55)); // past the held token's renewal point

        // An older token (it expires before the one held), still fresh by its own renewal point: not taken.
        await shared.SetAsync(key, SharedTokenValue.From(new AccessToken("older", "Bearer", start.AddMinutes(59)), start.AddMinutes(58)).ToBytes());
        await services.Client.GetTokenAsync();
        await (services.Named.Cache.PendingAcquisition ?? Task.FromResult(held));
        (await services.Client.GetTokenAsync()).Value.Should().Be("token-2");

        // The same token string as the one held, issued again with a later expiry (a provider that hands out its
        // cached token): taken, without a request.
        services.Time.Advance(TimeSpan.FromMinutes(55));
        var now = services.Time.GetUtcNow();
        await shared.SetAsync(key, SharedTokenValue.From(new AccessToken("token-2", "Bearer", now.AddHours(1)), now.AddMinutes(54)).ToBytes());
        await services.Client.GetTokenAsync();
        await (services.Named.Cache.PendingAcquisition ?? Task.FromResult(held));
        (await services.Client.GetTokenAsync()).ExpiresAt.Should().Be(now.AddHours(1));
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Theory]
    [InlineData("""{"v":2,"token":"t","type":"Bearer","scope":null,"expires":1767229200000,"renew":1767228000000}""", "not a token value of version 1")]
    [InlineData("""{"v":1,"token":"t","type":"Basic","scope":null,"expires":1767229200000,"renew":1767228000000}""", "its token is not a well-formed Bearer token")]
    [InlineData("""{"v":1,"token":"a b","type":"Bearer","scope":null,"expires":1767229200000,"renew":1767228000000}""", "its token is not a well-formed Bearer token")]
    [InlineData("""{"v":1,"token":"","type":"Bearer","scope":null,"expires":1767229200000,"renew":1767228000000}""", "its token is not a well-formed Bearer token")]
    [InlineData("""{"v":1,"token":"t","type":"Bearer","scope":"read\r\nforged log line","expires":1767229200000,"renew":1767228000000}""", "its scope is malformed")]
    [InlineData("""{"v":1,"token":"t","type":"Bearer","scope":null,"expires":1767229200000,"renew":1767229200001}""", "its times are not those of a token (before 1970, renewal after expiry, or expiry past a year)")]
    [InlineData("""{"v":1,"token":"t","type":"Bearer","scope":null,"expires":1767229200000,"renew":-5}""", "its times are not those of a token (before 1970, renewal after expiry, or expiry past a year)")]
    [InlineData("""{"v":1,"token":"t","type":"Bearer","scope":null,"expires":1830000000000,"renew":1767228000000}""", "its times are not those of a token (before 1970, renewal after expiry, or expiry past a year)")]
    [InlineData("{\"v\":1,\"token\":\"t\",\"type\":\"Bearer\",", "not a token value of TokenClient")]
    [InlineData("""null""", "not a token value of version 1")]
    public void Parse_AValueThatIsNotOneTokenClientWrote_SaysWhatIsWrong_WithoutQuotingIt(string json, string expected)
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var act = () => SharedTokenValue.Parse(Encoding.UTF8.GetBytes(json), now);

        act.Should().Throw<FormatException>().Which.Message.Should().Be(expected);
    }

    [Fact]
    public void Parse_TheLimits_ScopeLength_RenewalAtExpiry_ExpiryAYearAhead_RenewalAtTheEpoch()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        static byte[] Json(string scope, long expires, long renew) =>
            Encoding.UTF8.GetBytes($$"""{"v":1,"token":"t","type":"Bearer","scope":"{{scope}}","expires":{{expires}},"renew":{{renew}}}""");
        var expires = now.AddHours(1).ToUnixTimeMilliseconds();
        var yearAhead = now.AddDays(365).ToUnixTimeMilliseconds();

        SharedTokenValue.Parse(Json(new string('s', 4096), expires, expires), now).RenewAt.Should().Be(now.AddHours(1));
        SharedTokenValue.Parse(Json("s", yearAhead, 1), now).ExpiresAt.Should().Be(now.AddDays(365));
        var tooLong = () => SharedTokenValue.Parse(Json(new string('s', 4097), expires, expires), now);
        tooLong.Should().Throw<FormatException>().WithMessage("its scope is malformed");
        var pastAYear = () => SharedTokenValue.Parse(Json("s", yearAhead + 1, 1), now);
        pastAYear.Should().Throw<FormatException>();
        var atTheEpoch = () => SharedTokenValue.Parse(Json("s", expires, 0), now);
        atTheEpoch.Should().Throw<FormatException>();
    }

    [Fact]
    public void Parse_AValueTokenClientWrote_ReadsBack()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var written = SharedTokenValue.From(new AccessToken("abc.def", "Bearer", now.AddHours(1), "read write"), now.AddMinutes(54));

        var read = SharedTokenValue.Parse(written.ToBytes(), now);

        read.ToToken().Should().BeEquivalentTo(new AccessToken("abc.def", "Bearer", now.AddHours(1), "read write"));
        read.RenewAt.Should().Be(now.AddMinutes(54));
        read.ToString().Should().Be("shared Bearer token, expires 2026-01-01T01:00:00.0000000+00:00, renewed from 2026-01-01T00:54:00.0000000+00:00");
    }


    private sealed class FailingProtector : IDataProtector
    {
        public IDataProtector CreateProtector(string purpose) => this;

        public byte[] Protect(byte[] plaintext) => throw new InvalidOperationException("The key ring cannot be loaded.");

        public byte[] Unprotect(byte[] protectedData) => throw new InvalidOperationException("The key ring cannot be loaded.");
    }

    /// <summary>A lock that answers only after its caller's timeout, with a handle that says when it is released.</summary>
    private sealed class SlowLock(TimeSpan delay) : ISharedTokenLock
    {
        public TaskCompletionSource<bool> Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<IAsyncDisposable?> TryTakeAsync(string key, TimeSpan expiry, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, CancellationToken.None);
            return new Handle(Released);
        }

        private sealed class Handle(TaskCompletionSource<bool> released) : IAsyncDisposable
        {
            public ValueTask DisposeAsync()
            {
                released.TrySetResult(true);
                return ValueTask.CompletedTask;
            }
        }
    }

    private sealed class BrokenLock : ISharedTokenLock
    {
        public ValueTask<IAsyncDisposable?> TryTakeAsync(string key, TimeSpan expiry, CancellationToken cancellationToken) =>
            ValueTask.FromException<IAsyncDisposable?>(new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.UnableToConnect, "No connection is available."));
    }
}
