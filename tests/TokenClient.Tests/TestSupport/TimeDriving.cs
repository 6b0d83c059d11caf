using Microsoft.Extensions.Time.Testing;

namespace TokenClient.Tests.TestSupport;

/// <summary>
/// Drives fake time without real delays: let what is running settle, advance one step, and again,
/// until the work ends. No real clock decides anything, so a slow machine only makes a test slower.
/// </summary>
internal static class TimeDriving
{
    /// <summary>Advances <paramref name="time"/> by <paramref name="step"/> whenever the work has settled without ending; fails after <paramref name="maxSteps"/>.</summary>
    public static async Task DriveAsync(this FakeTimeProvider time, Task work, TimeSpan step, int maxSteps = 1000)
    {
        for (var i = 0; i < maxSteps; i++)
        {
            await SettleAsync(work);
            if (work.IsCompleted)
            {
                return;
            }

            time.Advance(step);
        }

        throw new Xunit.Sdk.XunitException($"The work did not end within {maxSteps} steps of {step} of fake time.");
    }

    /// <inheritdoc cref="DriveAsync(FakeTimeProvider, Task, TimeSpan, int)"/>
    public static async Task<T> DriveAsync<T>(this FakeTimeProvider time, Task<T> work, TimeSpan step, int maxSteps = 1000)
    {
        await time.DriveAsync((Task)work, step, maxSteps);
        return await work;
    }

    /// <summary>
    /// Lets what timers and answers have woken run until it waits again: passes through the thread
    /// pool until, three times in a row, nothing is queued and no other worker thread is busy (the
    /// pass itself runs on one), or the work has ended. Other tests' work only makes this wait longer;
    /// the bound stops a wait that never ends.
    /// </summary>
    public static async Task SettleAsync(Task? work = null)
    {
        for (int quiet = 0, round = 0; quiet < 3 && round < 100_000 && work is not { IsCompleted: true }; round++)
        {
            quiet = await Task.Run(static () => IsIdle()).ConfigureAwait(false) ? quiet + 1 : 0;
        }
    }

    private static bool IsIdle()
    {
        ThreadPool.GetMaxThreads(out var maxWorkers, out _);
        ThreadPool.GetAvailableThreads(out var availableWorkers, out _);
        return ThreadPool.PendingWorkItemCount == 0 && maxWorkers - availableWorkers <= 1;
    }

    /// <summary>
    /// Waits for a condition that work on other threads makes true, passing through the thread pool
    /// in between. The real-time bound is a guard against a broken test, never a measure: it fails
    /// only what would otherwise hang.
    /// </summary>
    public static async Task UntilAsync(Func<bool> condition, string because)
    {
        var guard = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (guard.Elapsed > HangGuard)
            {
                throw new Xunit.Sdk.XunitException($"Expected {because}, but it had not happened after {HangGuard.TotalSeconds:F0} s.");
            }

            await Task.Run(static () => { }).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
}
