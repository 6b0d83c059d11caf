using System.Net;
using System.Text;
using Polly.Timeout;

namespace TokenClient.Endpoint;

/// <summary>
/// Builds every <see cref="TokenRequestException"/>, so that each names the client, the endpoint's
/// host, the HTTP status and the error, and none carries a secret or a token.
/// </summary>
internal static class TokenErrors
{
    private const int ExcerptLength = 160;

    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    public static TokenRequestException FromOAuthError(TokenRequestContext context, HttpStatusCode status, string error, string? description)
    {
        // A code the library knows is kept as it is (the refresh fallback and the metrics read it); any other
        // code, and every description, is server text: its secrets are removed before anyone sees it.
        var code = OAuthErrors.IsKnown(error) ? error : context.Secrets.Redact(error);
        var text = description is null ? null : context.Secrets.Redact(description);
        var detail = text is null ? $"error '{Sanitize(code)}'" : $"error '{Sanitize(code)}': {Sanitize(text)}";
        // use_dpop_nonce: the nonce changed between a request and its retry, as it may when several tenants ask at once.
        var transient = IsTransient(status) || error is "temporarily_unavailable" or "server_error" or "use_dpop_nonce";
        return new TokenRequestException(context.ClientName, Message(context, status, detail), status, code, text, transient);
    }

    public static TokenRequestException FromHttpStatus(TokenRequestContext context, HttpStatusCode status, ReadOnlySpan<byte> body)
    {
        var text = Encoding.UTF8.GetString(body);
        var detail = body.IsEmpty ? "and an empty body"
            : MayHoldToken(text) ? "and a body that is not an OAuth error"
            : $"and a body that is not an OAuth error: \"{Quote(context, text)}\"";
        return new TokenRequestException(context.ClientName, Message(context, status, detail), status, isTransient: IsTransient(status));
    }

    // An error page (HTML, plain text) helps whoever reads the message; JSON, or anything naming
    // a token, may carry the very token the client is fetching, so it is not quoted.
    private static bool MayHoldToken(string text) =>
        text.TrimStart().StartsWith('{') || text.TrimStart().StartsWith('[') || text.Contains("token", StringComparison.OrdinalIgnoreCase);

    /// <summary>A short, single-line excerpt of server text, with the client's secrets removed.</summary>
    public static string Quote(TokenRequestContext context, string text) => Sanitize(context.Secrets.Redact(text));

    // A success status whose body was read but holds a token we refuse. Its body is never quoted: it may hold the token.
    public static TokenRequestException InvalidResponse(TokenRequestContext context, HttpStatusCode status, string problem) =>
        new(context.ClientName, Message(context, status, problem), status);

    // A success status whose body could not be read as a token response (truncated, not JSON, no token):
    // transient, since the next answer may well be whole, and it must never start the failure cooldown.
    public static TokenRequestException UnreadableResponse(TokenRequestContext context, HttpStatusCode status, string problem) =>
        new(context.ClientName, Message(context, status, problem), status, isTransient: true);

    public static TokenRequestException Unreachable(TokenRequestContext context, Exception inner) =>
        new(context.ClientName, $"Token client '{context.ClientName}' could not reach {context.Endpoint.Host}: {WithoutPeriod(Quote(context, Cause(inner)))}.",
            isTransient: true, innerException: Safe(context, inner));

    // What went wrong, from the outer message to the innermost (refused, no such host, an untrusted
    // certificate, a reset): each message once, without the pointers to the next ("see inner exception").
    private static string Cause(Exception failure)
    {
        var parts = new List<string>();
        for (var e = failure; e is not null; e = e.InnerException)
        {
            var text = e.Message.Replace(", see inner exception", "", StringComparison.Ordinal).Trim().TrimEnd('.');
            if (text.Length > 0 && !parts.Any(p => p.Contains(text, StringComparison.Ordinal)))
            {
                parts.Add(text);
            }
        }

        return parts.Count == 0 ? failure.GetType().Name : $"{failure.GetType().Name}: {string.Join(": ", parts)}";
    }

    private static string WithoutPeriod(string text) => text.EndsWith('.') && !text.EndsWith("..", StringComparison.Ordinal) ? text[..^1] : text;

    // A transport exception may quote what the server sent (an invalid status or header line). One that
    // holds a secret is replaced by one of the same kind carrying the redacted text alone.
    private static Exception Safe(TokenRequestContext context, Exception inner)
    {
        var text = inner.ToString();
        var redacted = context.Secrets.Redact(text);
        return ReferenceEquals(redacted, text) ? inner
            : inner is IOException ? new IOException(redacted) : new HttpRequestException(redacted);
    }

    // The user's IClientAssertionProvider failed (a key vault that did not answer, say): worth trying again.
    public static TokenRequestException AssertionFailed(TokenRequestContext context, Exception inner, string what) =>
        new(context.ClientName,
            $"Token client '{context.ClientName}' {what}: {WithoutPeriod(Quote(context, Cause(inner)))}.",
            isTransient: true, innerException: Safe(context, inner));

    // An Authority whose metadata could not be read or is not to be trusted.
    public static TokenRequestException Metadata(TokenRequestContext context, Uri authority, string problem, bool transient) =>
        new(context.ClientName,
            $"Token client '{context.ClientName}' could not use the metadata of its Authority {authority.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)} ({context.Endpoint.AbsolutePath}): {WithoutPeriod(problem)}.",
            isTransient: transient);

    // A user's TokenProvider that failed before anything was sent: a mistake in its code or its configuration, not transient.
    public static TokenRequestException ProviderFailed(TokenRequestContext context, string provider, string problem, Exception? inner) =>
        new(context.ClientName,
            $"Token client '{context.ClientName}': the token provider '{provider}' {problem}{(inner is null ? "" : ": " + WithoutPeriod(Quote(context, Cause(inner))))}.",
            innerException: inner is null ? null : Safe(context, inner));

    // A TokenRequestException made outside the library (a user's TokenProvider): the client's secrets removed from its text.
    public static TokenRequestException Redacted(TokenRequestContext context, TokenRequestException made)
    {
        var message = context.Secrets.Redact(made.Message);
        var error = made.Error is null ? null : context.Secrets.Redact(made.Error);
        var description = made.ErrorDescription is null ? null : context.Secrets.Redact(made.ErrorDescription);
        return ReferenceEquals(message, made.Message) && ReferenceEquals(error, made.Error) && ReferenceEquals(description, made.ErrorDescription)
            ? made
            : new TokenRequestException(made.ClientName, message, made.StatusCode, error, description, made.IsTransient);
    }

    public static TokenRequestException TimedOut(TokenRequestContext context, Exception inner, TimeSpan? after) =>
        new(context.ClientName,
            after is { } timeout
                ? $"Token client '{context.ClientName}' timed out waiting for {context.Endpoint.Host}: no answer within {timeout.TotalSeconds:0.###} s."
                : $"Token client '{context.ClientName}' timed out waiting for {context.Endpoint.Host}.",
            isTransient: true, innerException: inner);

    // The total time ran out while retrying: report the last failure seen, as transient.
    public static TokenRequestException GaveUp(TokenRequestContext context, TokenRequestException last, TimeoutRejectedException inner) =>
        new(context.ClientName,
            $"Token client '{context.ClientName}' gave up on {context.Endpoint.Host} after {inner.Timeout.TotalSeconds:0.###} s of retries; the last attempt said: {last.Message}",
            last.StatusCode, last.Error, last.ErrorDescription, isTransient: true, innerException: last);

    // A token whose body took so long that too little of its lifetime was left: transient, the next answer may be quicker.
    public static TokenRequestException UsedUpInTransit(TokenRequestContext context, HttpStatusCode status, TimeSpan lifetime, TimeSpan reading) =>
        new(context.ClientName,
            Message(context, status, FormattableString.Invariant(
                $"a token of {lifetime.TotalSeconds:0.###} s whose body took {reading.TotalSeconds:0.###} s to arrive, leaving less than the minimum lifetime of {OAuthResponseReader.MinLifetime.TotalSeconds:0.###} s")),
            status, isTransient: true);

    // A failure repeated by the failure cooldown: the caller's own exception, the failure itself as its inner exception.
    public static TokenRequestException Repeated(TokenRequestException failure, DateTimeOffset until) =>
        new(failure.ClientName,
            $"{failure.Message} (Repeated without a new request until {until:O}: the failure cooldown.)",
            failure.StatusCode, failure.Error, failure.ErrorDescription, failure.IsTransient, failure);

    // A new tenant of a client whose MaxTenants entries are all waiting for a token: it fails at once rather than evict one.
    public static TokenRequestException TenantsFull(string clientName, int maxTenants) =>
        new(clientName,
            $"Token client '{clientName}' holds its cap of {maxTenants} tenants (MaxTenants), each waiting for a token request under way: " +
            "a new tenant is not added until one of them is served. Try again shortly, or raise MaxTenants.",
            isTransient: true);

    public static TokenRequestException Redirected(TokenRequestContext context, HttpStatusCode status, Uri? target) =>
        new(context.ClientName,
            Message(context, status, target is null
                ? "a redirect without a usable Location; token requests never follow redirects"
                : $"a redirect to {Quote(context, target.Authority)}; token requests never follow redirects, so the credentials were not sent there (set TokenEndpoint to the new address if the move is legitimate)"),
            status);

    public static TokenRequestException TooLarge(TokenRequestContext context, HttpStatusCode status, long limit) =>
        new(context.ClientName, Message(context, status, $"the response body is larger than the limit of {limit} bytes"), status);

    // One period at the end, also where the server's own description ends with one.
    private static string Message(TokenRequestContext context, HttpStatusCode status, string detail) =>
        $"Token client '{context.ClientName}' could not get a token from {context.Endpoint.Host}: HTTP {(int)status} ({status}), {WithoutPeriod(detail)}.";

    // A short, single-line excerpt of text already free of secrets.
    private static string Sanitize(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text)
        {
            if (builder.Length == ExcerptLength)
            {
                builder.Append('…');
                break;
            }

            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString().Trim();
    }
}
