using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Http;

namespace TokenClient.Http;

/// <summary>
/// Every rule about redirects, in one place. An API client's redirects are taken over from its primary handler
/// (<see cref="TakeOver"/>) and followed by the <see cref="RedirectGuard"/> as .NET's own handler follows them (RFC 9110
/// section 15.4), so that the token handler decides, hop by hop, where the credentials go. A token endpoint's client
/// follows none (<see cref="TurnOffForTokenEndpoint"/>).
/// </summary>
internal static class Redirects
{
    /// <summary>
    /// Where the primary handler of an API client is one whose redirects can be turned off, the <see cref="RedirectGuard"/>
    /// follows them instead, with the same limit. Otherwise .NET's redirect handling stays: it drops Authorization on every
    /// hop, but not other headers. Run after every other handler-builder action, so on whichever primary handler the user chose.
    /// </summary>
    public static void TakeOver(HttpMessageHandlerBuilder builder)
    {
        int? limit;
        try
        {
            limit = TurnOff(builder.PrimaryHandler);
        }
        catch (InvalidOperationException)
        {
            limit = null; // a shared handler already in use: its settings can no longer change
        }

        foreach (var guard in builder.AdditionalHandlers.OfType<RedirectGuard>())
        {
            guard.MaxRedirects = limit ?? 0;
        }
    }

    /// <summary>
    /// Turns off redirects on the primary handler of a token endpoint's <see cref="HttpClient"/>, whichever handler the user
    /// configured: a token request must never follow one (it would send the credentials, and take a token, wherever the
    /// server points). Run last among the client's handler-builder actions.
    /// </summary>
    public static void TurnOffForTokenEndpoint(HttpMessageHandlerBuilder builder)
    {
        try
        {
            TurnOff(builder.PrimaryHandler);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                $"The HttpClient '{builder.Name}' of a token client follows redirects, and its primary handler has already sent requests, so TokenClient cannot turn that off. Give it a new handler per call, or set AllowAutoRedirect = false on it: a token request must never follow a redirect.",
                ex);
        }
    }

    /// <summary>Whether two URIs share scheme, host and port. The same instance (no redirect happened) costs no comparison.</summary>
    public static bool SameOrigin(Uri? a, Uri b) =>
        ReferenceEquals(a, b) || a is not null && Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>The handler that does the sending: <paramref name="primary"/>, or what the delegating handlers it wraps end in.</summary>
    public static HttpMessageHandler Innermost(HttpMessageHandler primary)
    {
        var handler = primary;
        while (handler is DelegatingHandler { InnerHandler: { } inner })
        {
            handler = inner;
        }

        return handler;
    }

    /// <summary>
    /// Turns off the redirects of the handler that speaks HTTP under <paramref name="primary"/> (an
    /// <see cref="HttpClientHandler"/> or a <see cref="SocketsHttpHandler"/>, perhaps wrapped), and returns
    /// how many it would have followed; null when it did not follow them, or is of a kind not known here.
    /// Throws <see cref="InvalidOperationException"/> when the handler has already sent requests and can no longer change.
    /// </summary>
    public static int? TurnOff(HttpMessageHandler primary)
    {
        var handler = Innermost(primary);

        // A handler instance the user hands out on every build was turned off by an earlier build: its limit stands.
        if (s_turnedOff.TryGetValue(handler, out var earlier))
        {
            return earlier.Value;
        }

        int limit;
        switch (handler)
        {
            case HttpClientHandler { AllowAutoRedirect: true } h:
                h.AllowAutoRedirect = false;
                limit = h.MaxAutomaticRedirections;
                break;
            case SocketsHttpHandler { AllowAutoRedirect: true } s:
                s.AllowAutoRedirect = false;
                limit = s.MaxAutomaticRedirections;
                break;
            default:
                return null;
        }

        s_turnedOff.AddOrUpdate(handler, new StrongBox<int>(limit));
        return limit;
    }

    private static readonly ConditionalWeakTable<HttpMessageHandler, StrongBox<int>> s_turnedOff = new();

    /// <summary>Whether the status is one of the redirects that are followed.</summary>
    public static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MultipleChoices or HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// <summary>
    /// If the response is a redirect to follow, points the request at its target (a GET without content
    /// where the status asks for it) and returns true; otherwise leaves the request as it is.
    /// </summary>
    public static bool TryFollow(HttpRequestMessage request, HttpResponseMessage response)
    {
        var status = response.StatusCode;
        if (!IsRedirect(status)
            || response.Headers.Location is not { } location
            || request.RequestUri is not { } from)
        {
            return false;
        }

        // A Location that cannot be resolved (a port out of range, say) is no redirect to follow.
        if (!Uri.TryCreate(from, location, out var target))
        {
            return false;
        }

        var toGet = status == HttpStatusCode.SeeOther ? request.Method != HttpMethod.Head
            : status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found && request.Method == HttpMethod.Post;

        // As .NET does: only http and https, never from https down to http; and a body that cannot be
        // sent again stays where it was (the redirect is returned to the caller).
        if (target.Scheme != Uri.UriSchemeHttps && target.Scheme != Uri.UriSchemeHttp
            || from.Scheme == Uri.UriSchemeHttps && target.Scheme == Uri.UriSchemeHttp
            || !toGet && !CallerRequest.CanResend(request.Content))
        {
            return false;
        }

        if (string.IsNullOrEmpty(target.Fragment) && !string.IsNullOrEmpty(from.Fragment))
        {
            target = new UriBuilder(target) { Fragment = from.Fragment }.Uri;
        }

        request.RequestUri = target;
        if (toGet)
        {
            request.Method = HttpMethod.Get;
            request.Content = null;
            request.Headers.TransferEncodingChunked = false;
        }

        return true;
    }
}
