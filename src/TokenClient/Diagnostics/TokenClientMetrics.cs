using System.Diagnostics.Metrics;

namespace TokenClient.Diagnostics;

/// <summary>
/// The library's instruments, on a meter named "TokenClient" made by the container's <see cref="IMeterFactory"/>:
/// each container has its own meter (tests can observe one with <c>MetricCollector</c>, and a disposed container
/// disposes its meter), with the same instrument names, units and tags wherever it is made. No tag ever carries a
/// secret or a token.
/// </summary>
internal sealed class TokenClientMetrics
{
    public TokenClientMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(new MeterOptions(Telemetry.Name) { Version = Telemetry.Version });
        TokenRequests = meter.CreateCounter<long>(
            "tokenclient.token.requests", "{request}", "Token acquisitions from the token endpoint, retries included, by client and outcome.");
        TokenRequestDuration = meter.CreateHistogram<double>(
            "tokenclient.token.request.duration", "s", "How long token acquisitions take, retries and their delays included.");
        Resends = meter.CreateCounter<long>(
            "tokenclient.handler.resends", "{request}", "API requests resent once with a new token after the API rejected the token.");
    }

    /// <summary>Token acquisitions (each with its retries), by client and outcome.</summary>
    public Counter<long> TokenRequests { get; }

    /// <summary>How long acquisitions take, retries and their delays included.</summary>
    public Histogram<double> TokenRequestDuration { get; }

    /// <summary>API requests the handler resent with a new token after the API rejected the first.</summary>
    public Counter<long> Resends { get; }
}
