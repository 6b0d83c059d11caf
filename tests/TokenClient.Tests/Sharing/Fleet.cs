using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using TokenClient.Clients;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Sharing;

/// <summary>
/// The instances of one service: each its own container (its own in-memory cache, HTTP clients, Data
/// Protection), sharing the token endpoint, the clock and a real Redis, with a key prefix of the fleet's
/// own so that fleets on one server never meet.
/// </summary>
internal sealed class Fleet : IAsyncDisposable
{
    public const string ClientName = "fleet";

    private readonly List<Instance> _instances = [];
    private readonly List<string> _keyRings = [];

    public Fleet(RedisServer redis, Action<TokenClientOptions>? configure = null, TimeSpan? timeout = null)
    {
        Redis = redis;
        Configure = configure;
        Timeout = timeout ?? TimeSpan.FromSeconds(3);
        KeyRing = NewKeyRing();
    }

    public RedisServer Redis { get; }

    public Action<TokenClientOptions>? Configure { get; }

    /// <summary>
    /// The instances' SharedCacheTimeout: 3 seconds by default, not the library's one. Eight containers warming up
    /// at once on two cores run Redis's client and Data Protection for the first time together, and StackExchange.Redis
    /// stalls for up to a second now and then on such machines: the tests are of what the fleet shares, not of how
    /// fast this machine is. The outage test sets its own.
    /// </summary>
    public TimeSpan Timeout { get; }

    /// <summary>The token endpoint every instance calls: counts the requests of the whole fleet.</summary>
    public FakeTokenEndpoint Endpoint { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public string Prefix { get; } = $"test-{Guid.NewGuid():N}:";

    /// <summary>The Data Protection key ring the instances share by default: a directory with one key made before any instance starts.</summary>
    public string KeyRing { get; }

    /// <summary>A key ring of its own, which no other instance can read.</summary>
    public string NewKeyRing()
    {
        var directory = Directory.CreateTempSubdirectory("tokenclient-keys-").FullName;
        DataProtectionProvider.Create(new DirectoryInfo(directory), b => b.SetApplicationName("fleet")).CreateProtector("warm-up").Protect("x"u8.ToArray());
        _keyRings.Add(directory);
        return directory;
    }

    /// <summary>Starts one more instance.</summary>
    /// <param name="keyRing">Its Data Protection key ring: the fleet's by default; null turns Data Protection off.</param>
    /// <param name="redisLock">Whether it takes the Redis lock.</param>
    /// <param name="configure">Options on top of the fleet's.</param>
    public Instance Start(string? keyRing = "", bool redisLock = true, Action<TokenClientOptions>? configure = null)
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.AddStackExchangeRedisCache(o => o.Configuration = Redis.Configuration);
        if (keyRing is not null)
        {
            services.AddDataProtection().SetApplicationName("fleet").PersistKeysToFileSystem(new DirectoryInfo(keyRing.Length == 0 ? KeyRing : keyRing));
        }

        if (redisLock)
        {
            services.AddTokenClientRedisLock();
        }

        services.AddTokenClient(ClientName, o =>
        {
            o.TokenEndpoint = TestServices.Endpoint;
            o.ClientId = "client-id";
            o.ClientSecret = "client-secret";
            o.MaxRetries = 0;
            o.SharedCache = true;
            o.SharedCacheKeyPrefix = Prefix;
            o.SharedCacheTimeout = Timeout;
            Configure?.Invoke(o);
            configure?.Invoke(o);
        }).ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => new NonDisposing(Endpoint.Handler)));
        var instance = new Instance(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }), logs);
        _instances.Add(instance);
        return instance;
    }

    /// <summary>Starts <paramref name="count"/> instances.</summary>
    public Instance[] StartMany(int count) => Enumerable.Range(0, count).Select(_ => Start()).ToArray();

    /// <summary>The keys Redis holds under the fleet's prefix.</summary>
    public async Task<IReadOnlyList<string>> KeysAsync()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Redis.Configuration);
        var server = connection.GetServer(connection.GetEndPoints().Single());
        var keys = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: Prefix + "*"))
        {
            keys.Add(key!);
        }

        return keys;
    }

    /// <summary>Every value Redis holds under the fleet's prefix, as the bytes Redis stores (RedisCache keeps a hash per key).</summary>
    public async Task<IReadOnlyList<byte[]>> StoredValuesAsync()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Redis.Configuration);
        var server = connection.GetServer(connection.GetEndPoints().Single());
        var database = connection.GetDatabase();
        var values = new List<byte[]>();
        await foreach (var key in server.KeysAsync(pattern: Prefix + "*"))
        {
            if (await database.KeyTypeAsync(key) == RedisType.Hash)
            {
                values.AddRange((await database.HashGetAllAsync(key)).Select(entry => (byte[])entry.Value!));
            }
            else if ((byte[]?)await database.StringGetAsync(key) is { } value)
            {
                values.Add(value); // a lock's key, unless it was released between the scan and the read
            }
        }

        return values;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        foreach (var directory in _keyRings)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>One instance of the service.</summary>
    internal sealed class Instance(ServiceProvider services, CapturingLoggerProvider logs) : IAsyncDisposable
    {
        public ServiceProvider Services { get; } = services;

        public CapturingLoggerProvider Logs { get; } = logs;

        public ITokenClient Client => Services.GetRequiredService<ITokenClientFactory>().GetClient(ClientName);

        /// <summary>The live client, to read its cache.</summary>
        public NamedClient Named => Services.GetRequiredService<TokenClientFactory>().Named(ClientName);

        /// <summary>The key of the client's own token in the shared cache.</summary>
        public string Key => Named.Existing(null)!.Shared!.Key;

        public IDistributedCache Cache => Services.GetRequiredService<IDistributedCache>();

        public ValueTask<AccessToken> GetTokenAsync() => Client.GetTokenAsync();

        public int Count(string eventName) => Logs.Lines.Count(line => line.Id.Name == eventName);

        public ValueTask DisposeAsync() => Services.DisposeAsync();
    }

    // Every instance's HTTP client factory disposes its handlers; the fleet's one endpoint outlives them all.
    private sealed class NonDisposing(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
        }
    }
}
