using Microsoft.Extensions.Time.Testing;

namespace TokenClient.Tests.TestSupport;

/// <summary>
/// The test classes that drive fake time run alone, none in parallel with any other test: the driver
/// tells that the work waits for time by an idle thread pool, which other tests would keep busy.
/// </summary>
[CollectionDefinition(nameof(DrivenTimeCollection), DisableParallelization = true)]
public sealed class DrivenTimeCollection;

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
    /// Lets what timers and answers have woken run until it waits again: passes through the thread pool
    /// until, three passes in a row, nothing is queued, no other work item completed, and no other thread
    /// of the process is running (on Linux, read from /proc; elsewhere the first two only). Work that
    /// keeps running keeps this waiting, so a slow or loaded machine makes a test slower, never lets
    /// fake time run ahead of the work. A process that never goes quiet fails the test after a minute,
    /// or after <paramref name="hangGuard"/> (the simulation tells a livelock by it).
    /// </summary>
    public static async Task SettleAsync(Task? work = null, TimeSpan? hangGuard = null)
    {
        var limit = hangGuard ?? HangGuard;
        var guard = System.Diagnostics.Stopwatch.StartNew();
        for (var quiet = 0; quiet < 3 && work is not { IsCompleted: true };)
        {
            if (guard.Elapsed > limit)
            {
                throw new Xunit.Sdk.XunitException($"The process did not go quiet within {limit.TotalSeconds:F0} s: fake time was not advanced.");
            }

            var before = ThreadPool.CompletedWorkItemCount;
            await Task.Run(static () => { }).ConfigureAwait(false);
            var others = ThreadPool.CompletedWorkItemCount - before - 1;
            quiet = others <= 0 && ThreadPool.PendingWorkItemCount == 0 && await Task.Run(static () => RunningThreads() <= 1).ConfigureAwait(false) ? quiet + 1 : 0;
        }
    }

    // The threads of this process that are running now, the caller among them (state R in /proc/self/task/*/stat).
    // The runtime's tiered compiler is left out: it recompiles hot methods in the background for seconds on two cores,
    // and runs none of the test's work. (Idle pool threads do not spin, see the project's
    // UnfairSemaphoreSpinLimit, so a pool thread that runs is one that works.)
    private static int RunningThreads()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 1;
        }

        var running = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var state = stat[(stat.LastIndexOf(')') + 2)..].TrimStart()[0];
                running += state == 'R' && !stat.Contains("(.NET Tiered", StringComparison.Ordinal) ? 1 : 0;
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return running;
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
