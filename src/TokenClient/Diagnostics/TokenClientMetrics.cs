using System.Diagnostics.Metrics;

namespace TokenClient.Diagnostics;

/// <summary>
/// The library's instruments, on a meter named "TokenClient" made by the container's <see cref="IMeterFactory"/>:
/// each container has its own meter (tests can observe one with <c>MetricCollector</c>, and a disposed container
/// disposes its meter), with the same instrument names, units and tags wherever it is made. No tag ever carries a
/// secret, a token or a tenant.
/// </summary>
internal sealed class TokenClientMetrics
{
    private volatile CacheStatistics[] _caches = []; // one per client, replaced whole under _gate when a client is added

    private readonly Meter _meter;
    private readonly object _gate = new();
    private Counter<long>? _resends;
    private Counter<long>? _renewals;
    private Counter<long>? _cooldownRejections;

    public TokenClientMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(new MeterOptions(Telemetry.Name) { Version = Telemetry.Version });
        TokenRequests = _meter.CreateCounter<long>(
            "tokenclient.token.requests", "{request}", "Token acquisitions from the token endpoint, retries included, by client and outcome.");
        TokenRequestDuration = _meter.CreateHistogram<double>(
            "tokenclient.token.request.duration", "s", "How long token acquisitions take, retries and their delays included.");
        CacheRequests = _meter.CreateObservableCounter(
            "tokenclient.cache.requests", ObserveCaches, "{request}", "Calls for a token, by client and result: hit (a token held was served at once) or miss (the caller waited for an acquisition).");
    }

    /// <summary>Token acquisitions (each with its retries), by client and outcome.</summary>
    public Counter<long> TokenRequests { get; }

    /// <summary>How long acquisitions take, retries and their delays included.</summary>
    public Histogram<double> TokenRequestDuration { get; }

    /// <summary>Hits and misses of every client's caches, read from their counts when a listener collects.</summary>
    public ObservableCounter<long> CacheRequests { get; }

    // The counters of events a first token never meets are made at their first event (a listener is told of an instrument
    // whenever it is made): a serverless function's cold start does not pay for them.

    /// <summary>API requests the handler resent with a new token after the API rejected the first.</summary>
    public Counter<long> Resends => _resends ?? Made(ref _resends,
        "tokenclient.handler.resends", "{request}", "API requests resent once with a new token after the API rejected the token.");

    /// <summary>Background renewals, by client and outcome.</summary>
    public Counter<long> Renewals => _renewals ?? Made(ref _renewals,
        "tokenclient.cache.renewals", "{renewal}", "Renewals run in the background while the token held was still valid, by client and outcome.");

    /// <summary>Calls the failure cooldown answered with the last failure, without a request.</summary>
    public Counter<long> CooldownRejections => _cooldownRejections ?? Made(ref _cooldownRejections,
        "tokenclient.cooldown.rejections", "{request}", "Calls failed at once with the last failure, during the cooldown after a permanent failure, by client and error type.");

    private Counter<long> Made(ref Counter<long>? counter, string name, string unit, string description)
    {
        lock (_gate)
        {
            return counter ??= _meter.CreateCounter<long>(name, unit, description);
        }
    }

    /// <summary>The counts of the client <paramref name="clientName"/>, shared by all its tenants' caches.</summary>
    public CacheStatistics CacheOf(string clientName) => Find(_caches, clientName) ?? Add(clientName);

    private static CacheStatistics? Find(CacheStatistics[] caches, string clientName)
    {
        foreach (var cache in caches)
        {
            if (cache.ClientName == clientName)
            {
                return cache;
            }
        }

        return null;
    }

    private CacheStatistics Add(string clientName)
    {
        lock (_gate)
        {
            if (Find(_caches, clientName) is { } added)
            {
                return added;
            }

            var cache = new CacheStatistics(this, clientName);
            _caches = [.. _caches, cache];
            return cache;
        }
    }

    private IEnumerable<Measurement<long>> ObserveCaches()
    {
        foreach (var cache in _caches)
        {
            var client = new KeyValuePair<string, object?>("tokenclient.client", cache.ClientName);
            yield return new Measurement<long>(cache.Hits, client, new("tokenclient.cache.result", "hit"));
            yield return new Measurement<long>(cache.Misses, client, new("tokenclient.cache.result", "miss"));
        }
    }
}
