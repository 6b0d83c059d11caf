using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TokenClient.Caching;
using TokenClient.Diagnostics;

namespace TokenClient.Endpoint;

/// <summary>What one acquisition tells the world: its log lines, its span, one measurement with its outcome.</summary>
internal readonly struct AcquisitionTelemetry : IDisposable
{
    private readonly TokenRequestContext _context;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TokenClientMetrics _metrics;
    private readonly Activity? _activity;
    private readonly long _started;

    private AcquisitionTelemetry(TokenRequestContext context, TimeProvider time, ILogger logger, TokenClientMetrics metrics)
    {
        _context = context;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        Log.RequestingToken(logger, context.ClientName, context.Endpoint.Host);
        _activity = Telemetry.Source.StartActivity("TokenClient.GetToken", ActivityKind.Client);
        _activity?.SetTag("tokenclient.client", context.ClientName);
        _activity?.SetTag("server.address", context.Endpoint.Host);
        _started = time.GetTimestamp();
    }

    public static AcquisitionTelemetry Start(TokenRequestContext context, TimeProvider time, ILogger logger, TokenClientMetrics metrics) => new(context, time, logger, metrics);

    public void Succeeded(IssuedToken issued)
    {
        Record(failure: null);
        Log.TokenAcquired(_logger, _context.ClientName, (issued.Token.ExpiresAt - issued.ReceivedAt).TotalSeconds);
    }

    public void Failed(TokenRequestException failure)
    {
        Record(failure);
        Log.TokenRequestFailed(_logger, failure, _context.ClientName, failure.Message);
    }

    public void Dispose() => _activity?.Dispose();

    // error.type comes from a bounded set (ErrorType): nothing a server writes becomes a tag.
    private void Record(TokenRequestException? failure)
    {
        var tags = new TagList
        {
            { "tokenclient.client", _context.ClientName },
            { "tokenclient.outcome", failure is null ? "success" : "failure" },
        };
        if (failure is not null)
        {
            var errorType = ErrorType.Of(failure);
            tags.Add("error.type", errorType);
            _activity?.SetTag("error.type", errorType);
            _activity?.SetStatus(ActivityStatusCode.Error, failure.IsTransient ? "transient" : "permanent");
        }

        _metrics.TokenRequests.Add(1, tags);
        _metrics.TokenRequestDuration.Record(_time.GetElapsedTime(_started).TotalSeconds, tags);
    }
}
