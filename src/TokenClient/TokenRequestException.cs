using System.Net;

namespace TokenClient;

/// <summary>A token could not be acquired. Its message never contains a secret or a token.</summary>
public class TokenRequestException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="clientName">The configured client whose request failed.</param>
    /// <param name="message">What went wrong; must not contain a secret.</param>
    /// <param name="statusCode">The token endpoint's HTTP status, when it answered.</param>
    /// <param name="error">The RFC 6749 <c>error</c> code, or the provider's own code.</param>
    /// <param name="errorDescription">The server's description of the error.</param>
    /// <param name="isTransient">Whether trying again later may succeed.</param>
    /// <param name="innerException">The underlying failure.</param>
    public TokenRequestException(
        string clientName,
        string message,
        HttpStatusCode? statusCode = null,
        string? error = null,
        string? errorDescription = null,
        bool isTransient = false,
        Exception? innerException = null)
        : base(message, innerException)
    {
        ClientName = clientName;
        StatusCode = statusCode;
        Error = error;
        ErrorDescription = errorDescription;
        IsTransient = isTransient;
    }

    /// <summary>The configured client whose request failed.</summary>
    public string ClientName { get; }

    /// <summary>The token endpoint's HTTP status; null when no response arrived.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The RFC 6749 <c>error</c> code (such as <c>invalid_client</c>), or the provider's own code.</summary>
    public string? Error { get; }

    /// <summary>The server's <c>error_description</c>, or the provider's own message.</summary>
    public string? ErrorDescription { get; }

    /// <summary>Worth retrying later: 408, 429, 5xx, a timeout or a network failure.</summary>
    public bool IsTransient { get; }

    /// <summary>How long the server asked to wait before the next attempt (its Retry-After), where it said.</summary>
    internal TimeSpan? RetryAfter { get; set; }
}
