using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using TokenClient.Caching;
using TokenClient.Diagnostics;

namespace TokenClient.Endpoint;

/// <summary>
/// One attempt at the token endpoint: a token, or the failure with the delay the server asked for
/// (Retry-After). A failure is an outcome here, not an exception, so that the retry strategy reads the
/// delay from it.
/// </summary>
internal readonly record struct Attempt(IssuedToken Token, TokenRequestException? Failure, TimeSpan? RetryAfter);

/// <summary>The Polly pipeline of one client definition, shared by its tenants: total timeout, retries of transient failures, attempt timeout.</summary>
internal static class TokenRequestPipeline
{
    public static ResiliencePipeline<Attempt> Build(string clientName, TokenClientOptions options, TimeProvider time, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder<Attempt> { TimeProvider = time, Name = TokenEndpointTransport.HttpClientNameOf(clientName) };
        builder.AddTimeout(options.TotalTimeout);
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<Attempt>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome, options.MaxRetryDelay)),
                // An outcome with an exception (an attempt that timed out) has no result: its RetryAfter is null.
                DelayGenerator = args => new ValueTask<TimeSpan?>(args.Outcome.Result.RetryAfter),
                OnRetry = args =>
                {
                    // Polly numbers the attempt that failed from 0: the next one is the (AttemptNumber + 2)th.
                    var failure = args.Outcome.Exception is null ? args.Outcome.Result.Failure : null;
                    Log.RetryingTokenRequest(logger, (Exception?)failure ?? args.Outcome.Exception, clientName, args.AttemptNumber + 2, args.RetryDelay.TotalSeconds,
                        failure?.Message ?? "the attempt timed out");
                    return default;
                },
            });
        }

        builder.AddTimeout(options.AttemptTimeout);
        return builder.Build();
    }

    // Transient failures only, and never longer than the server's own Retry-After allows within our cap.
    private static bool ShouldRetry(Outcome<Attempt> outcome, TimeSpan maxRetryDelay) => outcome switch
    {
        { Exception: TimeoutRejectedException } => true,
        { Exception: null, Result: { Failure.IsTransient: true, RetryAfter: var retryAfter } } => retryAfter is null || retryAfter <= maxRetryDelay,
        _ => false,
    };
}
