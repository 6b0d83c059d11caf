namespace TokenClient.Caching;

/// <summary>Arithmetic on durations that TimeSpan lacks.</summary>
internal static class Durations
{
    /// <summary>The shorter of two durations.</summary>
    public static TimeSpan Shorter(TimeSpan a, TimeSpan b) => TimeSpan.FromTicks(Math.Min(a.Ticks, b.Ticks));
}
