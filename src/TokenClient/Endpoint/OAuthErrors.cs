namespace TokenClient.Endpoint;

/// <summary>The error codes the library knows: RFC 6749's (sections 4.1.2.1 and 5.2) and the providers' own.</summary>
internal static class OAuthErrors
{
    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
    {
        "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
        "invalid_scope", "access_denied", "unsupported_response_type", "server_error", "temporarily_unavailable",
        "use_dpop_nonce", "invalid_dpop_proof", // RFC 9449
        "INVALID_CREDENTIALS", // APIMW
    };

    /// <summary>
    /// Whether the code is one of these. Any other code is whatever a server chose to write: it is
    /// redacted like other server text, and never becomes a metric tag.
    /// </summary>
    public static bool IsKnown(string code) => s_known.Contains(code);
}
