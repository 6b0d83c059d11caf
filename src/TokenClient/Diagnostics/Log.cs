using Microsoft.Extensions.Logging;

namespace TokenClient.Diagnostics;

/// <summary>Every log line of the library. None takes a secret or a token as an argument.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "RequestingToken", Level = LogLevel.Debug,
        Message = "Token client '{ClientName}' is requesting a token from {EndpointHost}")]
    public static partial void RequestingToken(ILogger logger, string clientName, string endpointHost);

    [LoggerMessage(EventId = 2, EventName = "TokenAcquired", Level = LogLevel.Information,
        Message = "Token client '{ClientName}' acquired a token valid for {LifetimeSeconds:F0} s")]
    public static partial void TokenAcquired(ILogger logger, string clientName, double lifetimeSeconds);

    [LoggerMessage(EventId = 3, EventName = "TokenRequestFailed", Level = LogLevel.Warning,
        Message = "Token client '{ClientName}' failed to get a token: {Reason}")]
    public static partial void TokenRequestFailed(ILogger logger, Exception exception, string clientName, string reason);

    [LoggerMessage(EventId = 4, EventName = "RenewalStarted", Level = LogLevel.Debug,
        Message = "Token client '{ClientName}' is renewing its token in the background; the current one expires at {ExpiresAt:O}")]
    public static partial void RenewalStarted(ILogger logger, string clientName, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 5, EventName = "RenewalFailed", Level = LogLevel.Warning,
        Message = "Token client '{ClientName}' could not renew its token; it keeps serving the current one, valid until {ExpiresAt:O}, and tries again at {RetryAt:O}")]
    public static partial void RenewalFailed(ILogger logger, string clientName, DateTimeOffset expiresAt, DateTimeOffset retryAt);

    [LoggerMessage(EventId = 6, EventName = "TokenInvalidated", Level = LogLevel.Information,
        Message = "Token client '{ClientName}' dropped a token that the API rejected")]
    public static partial void TokenInvalidated(ILogger logger, string clientName);

    [LoggerMessage(EventId = 7, EventName = "ResendingWithNewToken", Level = LogLevel.Information,
        Message = "The API answered {StatusCode} to {Method} {Host}; resending once with a new token of client '{ClientName}'")]
    public static partial void ResendingWithNewToken(ILogger logger, int statusCode, string method, string? host, string clientName);

    [LoggerMessage(EventId = 8, EventName = "CannotResend", Level = LogLevel.Warning,
        Message = "The API answered {StatusCode} to {Method} {Host}; the request's content cannot be sent again, so the response is returned as it is (client '{ClientName}')")]
    public static partial void CannotResend(ILogger logger, int statusCode, string method, string? host, string clientName);

    [LoggerMessage(EventId = 9, EventName = "RefreshTokenRefused", Level = LogLevel.Information,
        Message = "Token client '{ClientName}': the server refused the refresh token (invalid_grant); falling back to the primary grant")]
    public static partial void RefreshTokenRefused(ILogger logger, string clientName);

    [LoggerMessage(EventId = 10, EventName = "RetryingTokenRequest", Level = LogLevel.Warning,
        Message = "Token client '{ClientName}' makes attempt {Attempt} at its token request in {DelaySeconds:0.###} s, after: {Reason}")]
    public static partial void RetryingTokenRequest(ILogger logger, Exception? exception, string clientName, int attempt, double delaySeconds, string reason);

    [LoggerMessage(EventId = 11, EventName = "FailureRepeated", Level = LogLevel.Debug,
        Message = "Token client '{ClientName}' reports its last permanent failure again without calling the endpoint, until {Until:O}")]
    public static partial void FailureRepeated(ILogger logger, string clientName, DateTimeOffset until);

    [LoggerMessage(EventId = 12, EventName = "ConfigurationApplied", Level = LogLevel.Information,
        Message = "Token client '{ClientName}' applies its changed configuration from its next token request on")]
    public static partial void ConfigurationApplied(ILogger logger, string clientName);

    [LoggerMessage(EventId = 13, EventName = "ConfigurationRejected", Level = LogLevel.Error,
        Message = "Token client '{ClientName}': the changed configuration is invalid and is not applied; the last valid one keeps running. {Problems}")]
    public static partial void ConfigurationRejected(ILogger logger, string clientName, string problems);

    [LoggerMessage(EventId = 14, EventName = "TenantsEvicted", Level = LogLevel.Warning,
        Message = "Token client '{ClientName}' reached its cap of {MaxTenants} tenants and released the {Count} least recently used")]
    public static partial void TenantsEvicted(ILogger logger, string clientName, int count, int maxTenants);

    [LoggerMessage(EventId = 23, EventName = "TenantsFull", Level = LogLevel.Warning,
        Message = "Token client '{ClientName}' holds its cap of {MaxTenants} tenants, each waiting for a token request under way: new tenants fail until one is served")]
    public static partial void TenantsFull(ILogger logger, string clientName, int maxTenants);

    [LoggerMessage(EventId = 15, EventName = "TenantsReleased", Level = LogLevel.Debug,
        Message = "Token client '{ClientName}' released {Count} idle tenants; {Remaining} remain")]
    public static partial void TenantsReleased(ILogger logger, string clientName, int count, int remaining);

    [LoggerMessage(EventId = 16, EventName = "SharedTokenTaken", Level = LogLevel.Information,
        Message = "Token client '{ClientName}' took a token from the shared cache, valid until {ExpiresAt:O}; it renews it from {RenewAt:O}")]
    public static partial void SharedTokenTaken(ILogger logger, string clientName, DateTimeOffset expiresAt, DateTimeOffset renewAt);

    [LoggerMessage(EventId = 17, EventName = "SharedCacheUnavailable", Level = LogLevel.Warning,
        Message = "The {Service} failed: {Reason}. Token clients go on without it, with their in-memory caches and token endpoints, and try it again from {RetryAt:O}; this is logged once per outage")]
    public static partial void SharedCacheUnavailable(ILogger logger, Exception? exception, string service, string reason, DateTimeOffset retryAt);

    [LoggerMessage(EventId = 18, EventName = "SharedCacheRestored", Level = LogLevel.Information,
        Message = "The {Service} answers again; token clients use it again")]
    public static partial void SharedCacheRestored(ILogger logger, string service);

    [LoggerMessage(EventId = 19, EventName = "SharedValueUnreadable", Level = LogLevel.Warning,
        Message = "Token client '{ClientName}' ignored a value in the shared cache that it cannot read ({Reason}); it requests a token of its own and replaces the value. Instances that share tokens must share a Data Protection key ring")]
    public static partial void SharedValueUnreadable(ILogger logger, string clientName, string reason);

    [LoggerMessage(EventId = 20, EventName = "SharedValueNotWritten", Level = LogLevel.Warning,
        Message = "Token client '{ClientName}' could not protect its token for the shared cache ({Reason}); it keeps the token for itself, and the other instances fetch their own")]
    public static partial void SharedValueNotWritten(ILogger logger, Exception exception, string clientName, string reason);

    [LoggerMessage(EventId = 21, EventName = "ResendingWithDpopNonce", Level = LogLevel.Debug,
        Message = "The API asked for a DPoP nonce on {Method} {Host}; resending once with the nonce it gave (client '{ClientName}')")]
    public static partial void ResendingWithDpopNonce(ILogger logger, string method, string? host, string clientName);

    [LoggerMessage(EventId = 22, EventName = "DpopNotBound", Level = LogLevel.Warning,
        Message = "Token client '{ClientName}' asked for a DPoP-bound token and got a {TokenType} token: the server did not bind it to the client's key, and it is sent without proofs")]
    public static partial void DpopNotBound(ILogger logger, string clientName, string tokenType);
}
