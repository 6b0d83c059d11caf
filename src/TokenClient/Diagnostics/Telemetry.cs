using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TokenClient.Diagnostics;

/// <summary>
/// The library's traces and metrics: one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both
/// named "TokenClient", with OpenTelemetry-style dotted names. No tag ever carries a secret or a token.
/// </summary>
internal static class Telemetry
{
    public const string Name = "TokenClient";

    private static readonly string? s_version = typeof(Telemetry).Assembly.GetName().Version?.ToString();

    public static ActivitySource Source { get; } = new(Name, s_version);

    public static Meter Meter { get; } = new(Name, s_version);

    /// <summary>Token acquisitions (each with its retries), by client and outcome.</summary>
    public static Counter<long> TokenRequests { get; } = Meter.CreateCounter<long>(
        "tokenclient.token.requests", "{request}", "Token acquisitions from the token endpoint, retries included, by client and outcome.");

    /// <summary>How long acquisitions take, retries and their delays included.</summary>
    public static Histogram<double> TokenRequestDuration { get; } = Meter.CreateHistogram<double>(
        "tokenclient.token.request.duration", "s", "How long token acquisitions take, retries and their delays included.");

    /// <summary>API requests the handler resent with a new token after the API rejected the first.</summary>
    public static Counter<long> Resends { get; } = Meter.CreateCounter<long>(
        "tokenclient.handler.resends", "{request}", "API requests resent once with a new token after the API rejected the token.");
}
