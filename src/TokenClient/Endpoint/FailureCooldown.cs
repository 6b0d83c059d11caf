using Microsoft.Extensions.Logging;
using TokenClient.Caching;
using TokenClient.Diagnostics;

namespace TokenClient.Endpoint;

/// <summary>
/// After a permanent failure, the same failure reported at once for a while instead of a new request:
/// a fleet with a wrong secret must not hammer the provider. Never for a renewal while a valid token is
/// held, and never longer than a tenth of the last token's lifetime.
/// </summary>
internal sealed class FailureCooldown(string clientName, TimeSpan configured, TimeProvider time, ILogger logger, TokenClientMetrics metrics)
{
    // The cooldown is at most the last token's lifetime divided by this.
    internal const int LifetimeFraction = 10;

    private volatile Failure? _failure;

    // Written by the one acquisition under way.
    private TimeSpan? _lastLifetime;

    /// <summary>
    /// Throws the failure being repeated, unless the request renews a token that is still valid: an exception of the
    /// caller's own, with the same fields, whose inner exception is the failure. Never the stored one rethrown, whose
    /// stack trace every rethrow would lengthen, from many threads at once.
    /// </summary>
    public void ThrowIfCooling(bool renewing)
    {
        if (!renewing && _failure is { } failure && time.Until(failure.Until) is var left && left > TimeSpan.Zero)
        {
            var until = time.GetUtcNow() + left;
            Log.FailureRepeated(logger, clientName, until);
            metrics.CooldownRejections.Add(1, new("tokenclient.client", clientName), new("error.type", ErrorType.Of(failure.Exception)));
            throw TokenErrors.Repeated(failure.Exception, until);
        }
    }

    /// <summary>Keeps the cap of another cooldown (the last lifetime), not its failure.</summary>
    public void CarryLifetime(FailureCooldown other) => _lastLifetime = other._lastLifetime;

    public void Succeeded(TimeSpan lifetime)
    {
        _failure = null;
        _lastLifetime = lifetime;
    }

    public void Failed(TokenRequestException failure)
    {
        // A cooldown of zero length (FailureCooldown = 0) ends where it starts: it holds nothing back.
        var length = _lastLifetime is { } lifetime ? Durations.Shorter(lifetime / LifetimeFraction, configured) : configured;
        if (!failure.IsTransient)
        {
            _failure = new Failure(failure, time.TimestampAfter(time.GetTimestamp(), length));
        }
    }

    // Until: a timestamp of the monotonic clock, which a step of the wall clock does not move.
    private sealed record Failure(TokenRequestException Exception, long Until);
}
