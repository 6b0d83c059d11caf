using System.Runtime.CompilerServices;

namespace TokenClient.Http;

/// <summary>
/// A request as the caller made it, kept with the message once a redirect or a resend is about to change it (or a primary
/// handler moved it): the origin the caller addressed, the only one its token goes to; its method and content, for the one
/// resend; and what this send has done (a resend, a nonce resend, the redirects followed). A handler above the token
/// handlers that sends the same message again (a retry) starts a new send: the origin stays, the rest starts over.
/// </summary>
internal sealed class CallerRequest
{
    private static readonly ConditionalWeakTable<HttpRequestMessage, CallerRequest> s_kept = new();

    private CallerRequest(Uri origin, HttpMethod method, HttpContent? content)
    {
        Origin = origin;
        Method = method;
        Content = content;
    }

    public Uri Origin { get; }

    public HttpMethod Method { get; }

    public HttpContent? Content { get; }

    /// <summary>The token handler resent the request after a rejection: never twice in one send.</summary>
    public bool Resent { get; set; }

    /// <summary>The token handler resent the request with a DPoP nonce: never twice in one send.</summary>
    public bool NonceResent { get; set; }

    /// <summary>The redirects followed since the send began, or since the last resend.</summary>
    public int Redirects { get; set; }

    /// <summary>A DPoP proof of the token handler's is on the request: the next hop removes it, whatever its token.</summary>
    public bool ProofAttached { get; set; }

    /// <summary>What is kept of the request, if anything: nothing until a redirect or a resend (the common case allocates nothing).</summary>
    public static CallerRequest? Of(HttpRequestMessage request) => s_kept.TryGetValue(request, out var kept) ? kept : null;

    /// <summary>Keeps the request as the caller made it (the one kept already, if any), before anything changes it.</summary>
    public static CallerRequest Keep(HttpRequestMessage request, Uri origin, HttpMethod method, HttpContent? content)
    {
        if (Of(request) is { } kept)
        {
            return kept;
        }

        kept = new CallerRequest(origin, method, content);
        s_kept.AddOrUpdate(request, kept);
        return kept;
    }

    /// <summary>A new send of the message: where a redirect moved it, the caller's origin stays, and nothing else.</summary>
    public static void StartOver(HttpRequestMessage request)
    {
        if (Of(request) is { } kept)
        {
            s_kept.AddOrUpdate(request, new CallerRequest(kept.Origin, request.Method, request.Content) { ProofAttached = kept.ProofAttached });
        }
    }

    /// <summary>Content that produces the same bytes when it is serialized again: none, or buffered in memory.</summary>
    public static bool CanResend(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent or ReadOnlyMemoryContent => true, // StringContent and FormUrlEncodedContent are ByteArrayContent
        MultipartContent multipart => multipart.All(CanResend),
        _ => false,
    };

    /// <summary>Points the request back at the caller's origin, with the caller's method and content (a resend): its redirects count anew.</summary>
    public void Restore(HttpRequestMessage request)
    {
        (request.RequestUri, request.Method, request.Content) = (Origin, Method, Content);
        Redirects = 0;
    }
}
