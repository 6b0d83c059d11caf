using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Diagnostics;

/// <summary>The cache's instruments and the cooldown's, each with its documented name, unit and tags.</summary>
[Collection(MeterListeners.Name)]
public sealed class TokenClientMetricsTests
{
    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    [Theory]
    [InlineData("tokenclient.token.requests", "{request}")]
    [InlineData("tokenclient.token.request.duration", "s")]
    [InlineData("tokenclient.handler.resends", "{request}")]
    [InlineData("tokenclient.cache.requests", "{request}")]
    [InlineData("tokenclient.cache.renewals", "{renewal}")]
    [InlineData("tokenclient.cooldown.rejections", "{request}")]
    public async Task EachInstrument_HasItsDocumentedNameAndUnit_ADescription_AndTheLibrarysVersion(string name, string unit)
    {
        await using var services = new TestServices();
        var meters = services.Provider.GetRequiredService<IMeterFactory>();
        using var collector = new MetricCollector<long>(meters, "TokenClient", name);
        using var histogram = new MetricCollector<double>(meters, "TokenClient", name);
        var metrics = services.Provider.GetRequiredService<TokenClient.Diagnostics.TokenClientMetrics>(); // most instruments exist from here
        _ = (metrics.Resends, metrics.Renewals, metrics.CooldownRejections); // these from their first event, as here

        var instrument = collector.Instrument ?? histogram.Instrument;

        instrument.Should().NotBeNull();
        instrument!.Unit.Should().Be(unit);
        instrument.Description.Should().NotBeNullOrWhiteSpace();
        instrument.Meter.Version.Should().Be(typeof(ITokenClient).Assembly.GetName().Version!.ToString());
    }

    [Fact]
    public async Task AFirstToken_MakesTheInstrumentsItRecordsOn_AndTheOthersComeAtTheirFirstEvent_Once()
    {
        await using var services = new TestServices();
        var meters = services.Provider.GetRequiredService<IMeterFactory>();
        var published = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == meters)
                {
                    published.Enqueue(instrument.Name);
                }
            },
        };
        listener.Start();

        await services.Client.GetTokenAsync();
        published.Should().BeEquivalentTo("tokenclient.token.requests", "tokenclient.token.request.duration", "tokenclient.cache.requests");

        var metrics = services.Provider.GetRequiredService<TokenClient.Diagnostics.TokenClientMetrics>();
        metrics.Renewals.Should().BeSameAs(metrics.Renewals);
        metrics.Resends.Should().BeSameAs(metrics.Resends).And.NotBeSameAs(metrics.CooldownRejections);
        published.Should().BeEquivalentTo(
            "tokenclient.token.requests", "tokenclient.token.request.duration", "tokenclient.cache.requests",
            "tokenclient.cache.renewals", "tokenclient.handler.resends", "tokenclient.cooldown.rejections");
    }

    [Fact]
    public async Task CacheRequests_CountHitsAndMissesPerClient_TenantsSummedUnderTheirClient()
    {
        await using var services = new TestServices();
        using var collector = new MetricCollector<long>(services.Provider.GetRequiredService<IMeterFactory>(), "TokenClient", "tokenclient.cache.requests");
        var client = services.Client;

        await client.GetTokenAsync(); // miss: nothing held yet
        for (var i = 0; i < 3; i++)
        {
            await client.GetTokenAsync();
        }

        await services.Named.For("tenant-a").GetTokenAsync(); // a miss of its own
        await services.Named.For("tenant-a").GetTokenAsync();
        collector.RecordObservableInstruments();

        var measurements = collector.GetMeasurementSnapshot();
        measurements.Should().HaveCount(2, "one value per client and result, never per tenant");
        measurements.Should().ContainSingle(m => Equals(m.Tags["tokenclient.cache.result"], "hit")).Which.Value.Should().Be(4);
        measurements.Should().ContainSingle(m => Equals(m.Tags["tokenclient.cache.result"], "miss")).Which.Value.Should().Be(2);
        measurements.Should().OnlyContain(m => m.Tags.Count == 2 && Equals(m.Tags["tokenclient.client"], "test"));
        collector.Instrument!.Unit.Should().Be("{request}");
        collector.Instrument.Should().BeOfType<ObservableCounter<long>>();
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task CacheRequests_AreCountedOnlyWhileSomethingListens()
    {
        await using var services = new TestServices();
        var client = services.Client;
        await client.GetTokenAsync();
        await client.GetTokenAsync();

        using var collector = new MetricCollector<long>(services.Provider.GetRequiredService<IMeterFactory>(), "TokenClient", "tokenclient.cache.requests");
        await client.GetTokenAsync();
        collector.RecordObservableInstruments();

        var measurements = collector.GetMeasurementSnapshot();
        measurements.Single(m => Equals(m.Tags["tokenclient.cache.result"], "hit")).Value.Should().Be(1, "the hit path counts nothing while no listener collects");
        measurements.Single(m => Equals(m.Tags["tokenclient.cache.result"], "miss")).Value.Should().Be(0);
    }

    [Fact]
    public async Task CacheRequests_ATokenDueForRenewal_IsAHit_AndTheExpiredOneAMiss()
    {
        await using var services = new TestServices();
        using var collector = new MetricCollector<long>(services.Provider.GetRequiredService<IMeterFactory>(), "TokenClient", "tokenclient.cache.requests");
        services.TokenEndpoint.RespondWith = (n, _) => Task.FromResult(n == 1 ? FakeTokenEndpoint.Token("t1", 100) : new HttpResponseMessage(HttpStatusCode.BadGateway));
        var client = services.Client;
        await client.GetTokenAsync(); // miss

        services.Time.Advance(TimeSpan.FromSeconds(95)); // due, still valid: served at once while the renewal fails
        (await client.GetTokenAsync()).Value.Should().Be("t1");
        await FinishedAsync(services); // the renewal fails
        services.Time.Advance(TimeSpan.FromSeconds(5)); // expired
        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();
        collector.RecordObservableInstruments();

        var measurements = collector.GetMeasurementSnapshot();
        measurements.Single(m => Equals(m.Tags["tokenclient.cache.result"], "hit")).Value.Should().Be(1);
        measurements.Single(m => Equals(m.Tags["tokenclient.cache.result"], "miss")).Value.Should().Be(2);
    }

    [Fact]
    public async Task Renewals_InTheBackground_AreCountedWithTheirOutcome()
    {
        await using var services = new TestServices();
        using var collector = new MetricCollector<long>(services.Provider.GetRequiredService<IMeterFactory>(), "TokenClient", "tokenclient.cache.renewals");
        services.TokenEndpoint.RespondWith = (n, _) => Task.FromResult(n <= 2 ? FakeTokenEndpoint.Token($"t{n}", 100) : new HttpResponseMessage(HttpStatusCode.BadGateway));
        var client = services.Client;
        await client.GetTokenAsync(); // the first acquisition is no renewal

        services.Time.Advance(TimeSpan.FromSeconds(90));
        await client.GetTokenAsync();
        await FinishedAsync(services);
        await collector.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(30));
        services.Time.Advance(TimeSpan.FromSeconds(90));
        await client.GetTokenAsync();
        await FinishedAsync(services); // the renewal fails
        await collector.WaitForMeasurementsAsync(2, TimeSpan.FromSeconds(30));

        var measurements = collector.GetMeasurementSnapshot();
        measurements.Select(m => m.Value).Should().Equal(1, 1);
        measurements[0].Tags.Should().BeEquivalentTo([Tag("tokenclient.client", "test"), Tag("tokenclient.outcome", "success")]);
        measurements[1].Tags.Should().BeEquivalentTo([Tag("tokenclient.client", "test"), Tag("tokenclient.outcome", "failure")]);
        collector.Instrument!.Unit.Should().Be("{renewal}");
        services.TokenEndpoint.RequestCount.Should().Be(3);
    }

    // The background renewal, if it has not finished yet (on a busy machine it may have, before the test looks).
    private static async Task FinishedAsync(TestServices services)
    {
        if (services.Named.Cache.PendingAcquisition is { } renewal)
        {
            await renewal.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    [Fact]
    public async Task CooldownRejections_CountCallsFailedWithoutARequest_WithTheErrorType()
    {
        await using var services = new TestServices(o => o.FailureCooldown = TimeSpan.FromSeconds(5));
        using var collector = new MetricCollector<long>(services.Provider.GetRequiredService<IMeterFactory>(), "TokenClient", "tokenclient.cooldown.rejections");
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}"""));
        var client = services.Client;

        for (var i = 0; i < 3; i++)
        {
            await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();
        }

        services.TokenEndpoint.RequestCount.Should().Be(1, "the second and third calls are the cooldown's");
        collector.GetMeasurementSnapshot().Select(m => m.Value).Should().Equal(1, 1);
        collector.LastMeasurement!.Tags.Should().BeEquivalentTo([Tag("tokenclient.client", "test"), Tag("error.type", "invalid_client")]);
        collector.Instrument!.Unit.Should().Be("{request}");

        services.Time.Advance(TimeSpan.FromSeconds(5)); // the cooldown is over: a request, not a rejection
        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();
        services.TokenEndpoint.RequestCount.Should().Be(2);
        collector.GetMeasurementSnapshot().Should().HaveCount(2);
    }
}

/// <summary>
/// The tests that a process-wide <see cref="MeterListener"/> would disturb, and the one that starts such a listener
/// (TelemetryTests): run one at a time. A listener that enables every "TokenClient" instrument turns on the counting
/// of hits in every container of the process, which TokenClientMetricsTests checks is off while nothing listens.
/// </summary>
[CollectionDefinition(Name)]
public sealed class MeterListeners
{
    public const string Name = "Meter listeners";
}
