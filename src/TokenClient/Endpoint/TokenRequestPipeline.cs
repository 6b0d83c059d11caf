using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using TokenClient.Caching;
using TokenClient.Diagnostics;

namespace TokenClient.Endpoint;

/// <summary>
/// The Polly pipeline of one client definition, shared by its tenants: total timeout, retries of transient failures, attempt
/// timeout. An attempt gives the token issued, or throws a <see cref="TokenRequestException"/> that carries the delay the
/// server asked for (Retry-After), which the retry reads.
/// </summary>
internal static class TokenRequestPipeline
{
    public static ResiliencePipeline<IssuedToken> Build(string clientName, ExchangeLimits limits, TimeProvider time, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder<IssuedToken> { TimeProvider = time, Name = TokenEndpointTransport.HttpClientNameOf(clientName) };
        builder.AddTimeout(limits.TotalTimeout);
        if (limits.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<IssuedToken>
            {
                MaxRetryAttempts = limits.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = limits.RetryDelay,
                MaxDelay = limits.MaxRetryDelay,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome, limits.MaxRetryDelay)),
                // An attempt that timed out says no delay: the backoff's applies.
                DelayGenerator = args => new ValueTask<TimeSpan?>((args.Outcome.Exception as TokenRequestException)?.RetryAfter),
                OnRetry = args =>
                {
                    // Polly numbers the attempt that failed from 0: the next one is the (AttemptNumber + 2)th.
                    Log.RetryingTokenRequest(logger, args.Outcome.Exception, clientName, args.AttemptNumber + 2, args.RetryDelay.TotalSeconds,
                        (args.Outcome.Exception as TokenRequestException)?.Message ?? "the attempt timed out");
                    return default;
                },
            });
        }

        builder.AddTimeout(limits.AttemptTimeout);
        return builder.Build();
    }

    // Transient failures only, and never longer than the server's own Retry-After allows within our cap.
    private static bool ShouldRetry(Outcome<IssuedToken> outcome, TimeSpan maxRetryDelay) => outcome.Exception switch
    {
        TimeoutRejectedException => true,
        TokenRequestException { IsTransient: true, RetryAfter: var retryAfter } => retryAfter is null || retryAfter <= maxRetryDelay,
        _ => false,
    };
}
