namespace TokenClient.Tests.TestSupport;

/// <summary>Counts the exceptions nobody observed that reach <see cref="TaskScheduler.UnobservedTaskException"/>.</summary>
internal static class UnobservedExceptions
{
    /// <summary>
    /// Runs <paramref name="work"/>, then collects until finalizers have run: how many unobserved exceptions that
    /// <paramref name="matches"/> picks (among those of other tests running meanwhile) were raised.
    /// </summary>
    public static async Task<int> CountAsync(Func<Exception, bool> matches, Func<Task> work)
    {
        var unobserved = 0;
        void Count(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.InnerExceptions.Any(matches))
            {
                Interlocked.Increment(ref unobserved);
            }
        }

        TaskScheduler.UnobservedTaskException += Count;
        try
        {
            await work();
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            return Volatile.Read(ref unobserved);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= Count;
        }
    }
}
