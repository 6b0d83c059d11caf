using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RichardSzalay.MockHttp;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Diagnostics;

/// <summary>The "TokenClient" meter and activity source, observed with the platform's own listeners.</summary>
[Collection(MeterListeners.Name)]
public sealed class TelemetryTests : IDisposable
{
    // Other tests run in parallel and share the meter: each test here uses a client name of its own.
    private readonly string _client = $"telemetry-{Guid.NewGuid():N}";
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ConcurrentQueue<Activity> _activities = new();
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _spans;

    public TelemetryTests()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "TokenClient")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Keep(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Keep(instrument, value, tags));
        _meters.Start();
        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "TokenClient",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Equals(activity.GetTagItem("tokenclient.client"), _client))
                {
                    _activities.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_spans);
    }

    [Fact]
    public async Task GetTokenAsync_SuccessThenFailure_CountsEachAcquisitionWithItsOutcome()
    {
        await using var services = Register();
        services.TokenEndpoint.Respond = n =>
        {
            services.Time.Advance(TimeSpan.FromSeconds(n == 1 ? 1.5 : 0.25)); // the time each answer takes, on the fake clock
            return Task.FromResult(n == 1
                ? FakeTokenEndpoint.Token("t", 3600)
                : FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}"""));
        };
        var client = services.Client;

        var token = await client.GetTokenAsync();
        client.Invalidate(token);
        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();

        var requests = _measurements.Where(m => m.Instrument == "tokenclient.token.requests").ToList();
        requests.Select(m => m.Tags["tokenclient.outcome"]).Should().Equal("success", "failure");
        requests.Should().OnlyContain(m => m.Value == 1);
        requests[0].Tags.Should().NotContainKey("error.type");
        requests[1].Tags["error.type"].Should().Be("invalid_client");
        _measurements.Where(m => m.Instrument == "tokenclient.token.request.duration").Select(m => m.Value).Should().Equal(1.5, 0.25);
    }

    [Fact]
    public async Task GetTokenAsync_EachAcquisition_IsOneClientSpanWithTheOutcome()
    {
        await using var services = Register();
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1 ? FakeTokenEndpoint.Token("t", 3600) : new HttpResponseMessage(HttpStatusCode.BadGateway));
        var client = services.Client;

        var token = await client.GetTokenAsync();
        client.Invalidate(token);
        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();

        var spans = _activities.ToList();
        spans.Should().HaveCount(2).And.OnlyContain(a => a.OperationName == "TokenClient.GetToken" && a.Kind == ActivityKind.Client);
        spans.Should().OnlyContain(a => Equals(a.GetTagItem("server.address"), "auth.test"));
        spans[0].Status.Should().Be(ActivityStatusCode.Unset);
        spans[1].Status.Should().Be(ActivityStatusCode.Error);
        spans[1].StatusDescription.Should().Be("transient");
        spans[1].GetTagItem("error.type").Should().Be("502");
    }

    [Theory]
    [InlineData(401, """{"error":"invalid_client"}""", "invalid_client")]
    [InlineData(401, """{"success":false,"error":{"code":"INVALID_CREDENTIALS","message":"no"}}""", "401")] // to Generic, not an OAuth error: the status
    [InlineData(400, """{"error":"evil<script>alert(1)</script>"}""", "_OTHER")]
    [InlineData(400, """{"error":"invalid_client_made_up"}""", "_OTHER")]
    [InlineData(503, "", "503")]
    [InlineData(999, "", "_OTHER")]
    public async Task GetTokenAsync_Failure_TagsErrorTypeFromABoundedSet(int status, string body, string expected)
    {
        await using var services = Register();
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json((HttpStatusCode)status, body));
        var client = services.Client;

        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();

        _measurements.Where(m => m.Instrument == "tokenclient.token.requests").Should().ContainSingle()
            .Which.Tags["error.type"].Should().Be(expected);
        _activities.Should().ContainSingle().Which.GetTagItem("error.type").Should().Be(expected);
        _activities.Single().StatusDescription.Should().Be(status >= 500 ? "transient" : "permanent");
    }

    [Fact]
    public async Task GetTokenAsync_ApimwCode_IsAKnownErrorType()
    {
        await using var services = Register(configure: o => { o.Provider = "Apimw"; o.TokenEndpoint = null; });
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"success":false,"error":{"code":"INVALID_CREDENTIALS","message":"no"}}"""));
        var client = services.Client;

        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();

        _measurements.Where(m => m.Instrument == "tokenclient.token.requests").Should().ContainSingle()
            .Which.Tags["error.type"].Should().Be("INVALID_CREDENTIALS");
    }

    [Fact]
    public async Task GetTokenAsync_NetworkFailure_TagsTheExceptionTypeName()
    {
        await using var services = Register();
        services.TokenEndpoint.Respond = _ => throw new HttpRequestException("refused");
        var client = services.Client;

        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();

        _measurements.Where(m => m.Instrument == "tokenclient.token.requests").Should().ContainSingle()
            .Which.Tags["error.type"].Should().Be(nameof(HttpRequestException));
    }

    [Fact]
    public async Task Handler_ResendAfterRejection_IsCounted()
    {
        var api = new MockHttpMessageHandler();
        var answers = new Queue<HttpStatusCode>([HttpStatusCode.Unauthorized, HttpStatusCode.OK]);
        api.Fallback.Respond(_ => new HttpResponseMessage(answers.Dequeue()));
        await using var services = Register(s => s.AddHttpClient("api").AddTokenHandler(_client).ConfigurePrimaryHttpMessageHandler(() => api));

        using var response = await services.Http("api").GetAsync("https://api.test/");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        _measurements.Where(m => m.Instrument == "tokenclient.handler.resends").Should().ContainSingle().Which.Value.Should().Be(1);
    }

    public void Dispose()
    {
        _meters.Dispose();
        _spans.Dispose();
    }

    private void Keep<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        if (Equals(copy.GetValueOrDefault("tokenclient.client"), _client))
        {
            _measurements.Enqueue((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), copy));
        }
    }

    private TestServices Register(Action<IServiceCollection>? more = null, Action<TokenClientOptions>? configure = null) => new(
        o =>
        {
            o.FailureCooldown = TimeSpan.Zero;
            configure?.Invoke(o);
        },
        more,
        name: _client);
}
