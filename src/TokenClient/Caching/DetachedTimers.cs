namespace TokenClient.Caching;

/// <summary>Timers that do not carry the execution context (scopes, activities) of whoever happened to create them.</summary>
internal static class DetachedTimers
{
    public static ITimer CreateDetachedTimer(this TimeProvider time, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var suppress = !ExecutionContext.IsFlowSuppressed();
        if (suppress)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            return time.CreateTimer(callback, state, dueTime, period);
        }
        finally
        {
            if (suppress)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }
}
