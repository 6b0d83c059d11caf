using System.Diagnostics;

namespace TokenClient.Diagnostics;

/// <summary>
/// The library's traces: one <see cref="ActivitySource"/> named "TokenClient", with OpenTelemetry-style dotted
/// names (its metrics are in <see cref="TokenClientMetrics"/>, on a meter of the same name). No tag ever
/// carries a secret or a token.
/// </summary>
internal static class Telemetry
{
    public const string Name = "TokenClient";

    public static string? Version { get; } = typeof(Telemetry).Assembly.GetName().Version?.ToString();

    public static ActivitySource Source { get; } = new(Name, Version);
}
