using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Diagnostics;

/// <summary>The meter comes from the container's IMeterFactory: one container's measurements are observed alone.</summary>
public sealed class MeterFactoryTests
{
    [Fact]
    public async Task Instruments_ComeFromTheContainersMeterFactory_SoACollectorSeesItsContainerOnly()
    {
        await using var observed = new TestServices();
        await using var other = new TestServices();
        var meters = observed.Provider.GetRequiredService<IMeterFactory>();
        using var requests = new MetricCollector<long>(meters, "TokenClient", "tokenclient.token.requests");
        using var duration = new MetricCollector<double>(meters, "TokenClient", "tokenclient.token.request.duration");

        await observed.Client.GetTokenAsync();
        await other.Client.GetTokenAsync(); // the same client name and instruments, in another container

        var measurement = requests.GetMeasurementSnapshot().Should().ContainSingle().Subject;
        measurement.Value.Should().Be(1);
        measurement.Tags.Should().Contain(new KeyValuePair<string, object?>("tokenclient.client", "test"))
            .And.Contain(new KeyValuePair<string, object?>("tokenclient.outcome", "success"));
        requests.Instrument!.Unit.Should().Be("{request}");
        duration.GetMeasurementSnapshot().Should().ContainSingle();
        duration.Instrument!.Unit.Should().Be("s");
        other.TokenEndpoint.RequestCount.Should().Be(1, "the other container did acquire, unseen");
    }
}
