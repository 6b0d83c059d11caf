using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace TokenClient.Diagnostics;

/// <summary>
/// What the caches of one client (all its tenants) report: hits and misses, counted only while something listens
/// to <c>tokenclient.cache.requests</c> (a listener reads them when it collects), and background renewals.
/// </summary>
internal sealed class CacheStatistics
{
    private readonly TokenClientMetrics _metrics;
    private readonly StripedCounter _hits = new();
    private readonly StripedCounter _misses = new();
    private readonly KeyValuePair<string, object?> _client;

    public CacheStatistics(TokenClientMetrics metrics, string clientName)
    {
        _metrics = metrics;
        ClientName = clientName;
        _client = new("tokenclient.client", clientName);
    }

    public string ClientName { get; }

    public long Hits => _hits.Sum;

    public long Misses => _misses.Sum;

    /// <summary>A caller served the token held, without waiting.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Hit()
    {
        if (_metrics.CacheRequests.Enabled)
        {
            _hits.Increment();
        }
    }

    /// <summary>A caller found no valid token and waited for an acquisition.</summary>
    public void Miss()
    {
        if (_metrics.CacheRequests.Enabled)
        {
            _misses.Increment();
        }
    }

    /// <summary>A renewal run in the background, while the token held was still valid, ended.</summary>
    public void Renewed(bool succeeded) =>
        _metrics.Renewals.Add(1, _client, new("tokenclient.outcome", succeeded ? "success" : "failure"));
}
