namespace TokenClient.Caching;

/// <summary>Instants on a <see cref="TimeProvider"/>'s monotonic clock (<see cref="TimeProvider.GetTimestamp"/>), which the wall clock's steps do not move.</summary>
internal static class Timestamps
{
    /// <summary>The timestamp <paramref name="span"/> after <paramref name="start"/>.</summary>
    public static long TimestampAfter(this TimeProvider time, long start, TimeSpan span) =>
        start + (long)(span.Ticks * ((double)time.TimestampFrequency / TimeSpan.TicksPerSecond));

    /// <summary>How long until <paramref name="deadline"/> (negative once it has passed).</summary>
    public static TimeSpan Until(this TimeProvider time, long deadline) => time.GetElapsedTime(time.GetTimestamp(), deadline);
}
