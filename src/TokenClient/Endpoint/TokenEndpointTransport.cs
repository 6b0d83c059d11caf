using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using TokenClient.Http;

namespace TokenClient.Endpoint;

/// <summary>What the token endpoint answered to one attempt.</summary>
/// <param name="Status">The status.</param>
/// <param name="RetryAfter">Its Retry-After header.</param>
/// <param name="Body">Its body.</param>
/// <param name="ReceivedAt">When its headers arrived, on the wall clock: a token's lifetime counts from then.</param>
/// <param name="ReceivedTimestamp">The same instant on the monotonic clock.</param>
/// <param name="ReadTimestamp">When its body had been read, on the monotonic clock: what is left of a token's lifetime is measured then.</param>
/// <param name="DpopNonce">Its <c>DPoP-Nonce</c> header (RFC 9449 section 8), if it has one.</param>
internal readonly record struct Answer(HttpStatusCode Status, RetryConditionHeaderValue? RetryAfter, byte[] Body, DateTimeOffset ReceivedAt, long ReceivedTimestamp, long ReadTimestamp, string? DpopNonce = null)
{
    /// <summary>How long the body took to arrive after the headers.</summary>
    public TimeSpan Reading(TimeProvider time) => time.GetElapsedTime(ReceivedTimestamp, ReadTimestamp);

    // Retry-After in either form (RFC 9110 10.2.3): seconds, or an HTTP date measured against our clock.
    public TimeSpan? RetryDelay => RetryAfter is null ? null
        : (RetryAfter.Delta ?? (RetryAfter.Date - ReceivedAt) ?? TimeSpan.Zero) is var delay && delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
}

/// <summary>
/// The transport part of one attempt: send through the <see cref="IHttpClientFactory"/> client, refuse
/// redirects, read the body within its limit. Every transport failure, whether before the headers or in
/// the middle of the body, becomes a <see cref="TokenRequestException"/> here.
/// </summary>
internal sealed class TokenEndpointTransport(IHttpClientFactory httpClientFactory, string httpClientName, TimeProvider time)
{
    /// <summary>The <see cref="IHttpClientFactory"/> client through which a token client calls its token endpoint (and the name of its Polly pipeline).</summary>
    public static string HttpClientNameOf(string clientName) => $"TokenClient.{clientName}";

    /// <param name="context">The attempt's context: its endpoint is the one the answer must come from.</param>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<Answer> FetchAsync(TokenRequestContext context, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var http = httpClientFactory.CreateClient(httpClientName);
        var headersReceived = false;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            headersReceived = true;
            RefuseRedirect(context, response);

            // The lifetime counts from the response's arrival, not from the server's clock; what is left of it once the body
            // has been read is what the cache gets.
            var receivedAt = time.GetUtcNow();
            var receivedTimestamp = time.GetTimestamp();
            var body = await ReadBodyAsync(context, response, cancellationToken).ConfigureAwait(false);
            return new Answer(response.StatusCode, response.Headers.RetryAfter, body, receivedAt, receivedTimestamp, time.GetTimestamp(), DpopProofs.NonceOf(response.Headers));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw TokenErrors.Unreachable(context, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw TokenErrors.TimedOut(context, ex, headersReceived ? null : http.Timeout);
        }
    }

    // A token request never follows a redirect: it would re-send the credentials, and accept a token, from
    // wherever the server points. The primary handler is told not to follow them (Redirects.TurnOffForTokenEndpoint); a
    // handler that follows them all the same is caught by the URI its response answers.
    private static void RefuseRedirect(TokenRequestContext context, HttpResponseMessage response)
    {
        if ((int)response.StatusCode is >= 300 and <= 399)
        {
            var target = response.Headers.Location is { } location && Uri.TryCreate(context.Endpoint, location, out var resolved) ? resolved : null;
            throw TokenErrors.Redirected(context, response.StatusCode, target);
        }

        if (response.RequestMessage?.RequestUri is { } answered && !Redirects.SameOrigin(answered, context.Endpoint))
        {
            throw TokenErrors.Redirected(context, response.StatusCode, answered);
        }
    }

    private static async Task<byte[]> ReadBodyAsync(TokenRequestContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var limit = context.Limits.MaxResponseSize;
        if (response.Content.Headers.ContentLength > limit)
        // Stryker disable once Block : without this shortcut the read below stops at the limit with the same exception
        {
            // Stryker disable once Statement : as above
            throw TokenErrors.TooLarge(context, response.StatusCode, limit);
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            // Read to its end into a pooled buffer (the size announced, else 4 KB, growing up to the limit), then copied
            // out once: no buffer of its own per acquisition.
            var announced = response.Content.Headers.ContentLength;
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize(announced + 1 ?? 4096, limit));
            try
            {
                var filled = 0;
                int read;
                while ((read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    filled += read;
                    if (filled > limit)
                    {
                        throw TokenErrors.TooLarge(context, response.StatusCode, limit);
                    }

                    if (filled == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(BufferSize(buffer.Length * 2L, limit));
                        buffer.AsSpan(0, filled).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }

                return buffer.AsSpan(0, filled).ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    // Room for one byte past the limit, so that a body over it is seen. Only a limit of int.MaxValue reaches the cap.
    private static int BufferSize(long wanted, int limit) => (int)Math.Min(Math.Min(wanted, limit + 1L), Array.MaxLength);
}
