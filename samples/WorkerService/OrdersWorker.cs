using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WorkerService;

public sealed class OrdersOptions
{
    public Uri? BaseAddress { get; set; }

    /// <summary>The pause between two calls.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many calls to make before the host stops; 0 for as many as it runs.</summary>
    public int Calls { get; set; }
}

/// <summary>Calls the API every few seconds, and logs what the token client's health check says.</summary>
public sealed partial class OrdersWorker(
    OrdersApi api,
    HealthCheckService health,
    IOptions<OrdersOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<OrdersWorker> logger) : BackgroundService
{
    /// <summary>Calls that failed; the process exits with 1 when there was any, or when no call succeeded.</summary>
    public static int Failures { get; private set; }

    /// <summary>Calls that succeeded.</summary>
    public static int Successes { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.Interval);
        for (var call = 1; !stoppingToken.IsCancellationRequested; call++)
        {
            try
            {
                var answer = await api.GreetingAsync(stoppingToken);
                var report = await health.CheckHealthAsync(stoppingToken);
                Successes++;
                LogCall(logger, call, answer, report.Status);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Any failure is counted (a faulted BackgroundService would only stop the host, which exits with 0).
                Failures++;
                LogFailure(logger, ex, call);
            }

            if (settings.Calls > 0 && call >= settings.Calls)
            {
                lifetime.StopApplication();
                return;
            }

            if (!await timer.WaitForNextTickAsync(stoppingToken).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default))
            {
                return;
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Call {Call}: {Answer} (health: {Status})")]
    private static partial void LogCall(ILogger logger, int call, string answer, HealthStatus status);

    [LoggerMessage(2, LogLevel.Error, "Call {Call} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, int call);
}
