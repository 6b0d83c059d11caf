namespace TokenClient.Caching;

/// <summary>An acquisition that failed, and when.</summary>
internal sealed record AcquisitionFailure(Exception Exception, DateTimeOffset At);
