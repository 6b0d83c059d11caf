namespace TokenClient.Http;

/// <summary>
/// Follows redirects in place of the primary handler (which <see cref="Redirects.TakeOver"/> told not to), above the token
/// handler, as .NET's own redirect handler sits above its authentication: every hop goes down through the token handler
/// again, which attaches the token and the configured headers only to the caller's origin. With no redirects taken over
/// (<see cref="MaxRedirects"/> zero), it only marks the start of a send.
/// </summary>
internal sealed class RedirectGuard : DelegatingHandler
{
    /// <summary>How many redirects it follows: the primary handler's own limit, taken over; zero when there was none to take.</summary>
    internal int MaxRedirects { get; set; }

    // The common case (an answer that is no redirect) allocates nothing: the inner handler's task is returned as it is.
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        CallerRequest.StartOver(request);
        var sending = base.SendAsync(request, cancellationToken);
        if (MaxRedirects == 0 || (sending.IsCompletedSuccessfully && !Redirects.IsRedirect(sending.Result.StatusCode)))
        {
            return sending;
        }

        return FollowAsync(request, sending, cancellationToken);
    }

    private async Task<HttpResponseMessage> FollowAsync(HttpRequestMessage request, Task<HttpResponseMessage> sending, CancellationToken cancellationToken)
    {
        while (true)
        {
            var response = await sending.ConfigureAwait(false);
            if (!Redirects.IsRedirect(response.StatusCode))
            {
                return response;
            }

            // Kept before the request moves: a next hop that throws leaves an outer retry knowing where the caller aimed.
            var kept = CallerRequest.Keep(request, request.RequestUri!, request.Method, request.Content);
            if (kept.Redirects >= MaxRedirects || !Redirects.TryFollow(request, response))
            {
                return response;
            }

            kept.Redirects++;
            response.Dispose();
            sending = base.SendAsync(request, cancellationToken);
        }
    }
}
