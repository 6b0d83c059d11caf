using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Diagnostics;

namespace TokenClient.Tests.TestSupport;

/// <summary>The instruments of a container of their own, for the parts of the library that tests build by hand.</summary>
internal static class TestMetrics
{
    private static readonly ServiceProvider Meters = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public static TokenClientMetrics Create() => new(Meters.GetRequiredService<IMeterFactory>());
}
