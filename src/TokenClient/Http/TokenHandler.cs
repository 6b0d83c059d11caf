using System.Net;
using Microsoft.Extensions.Logging;
using TokenClient.Diagnostics;

namespace TokenClient.Http;

/// <summary>
/// Attaches <c>Authorization: Bearer</c> and the client's configured headers to every request.
/// When the API rejects the token, it drops that token, gets a new one and resends the request
/// once, if its content can be sent again.
/// </summary>
internal sealed class TokenHandler : DelegatingHandler
{
    private readonly ITokenClient _client;
    private readonly string _clientName;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly ILogger _logger;

    public TokenHandler(ITokenClient client, string clientName, IEnumerable<KeyValuePair<string, string>> headers, ILogger logger)
    {
        _client = client;
        _clientName = clientName;
        _headers = headers.ToArray();
        _logger = logger;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        foreach (var (name, value) in _headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var token = await _client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = token.AuthorizationHeader;
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!IsTokenRejected(response))
        {
            return response;
        }

        var method = request.Method.Method;
        var host = request.RequestUri?.Host;
        if (!CanResend(request.Content))
        {
            Log.CannotResend(_logger, (int)response.StatusCode, method, host, _clientName);
            return response;
        }

        _client.Invalidate(token);
        var renewed = await _client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        Log.ResendingWithNewToken(_logger, (int)response.StatusCode, method, host, _clientName);
        response.Dispose();
        request.Headers.Authorization = renewed.AuthorizationHeader;
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsTokenRejected(HttpResponseMessage response) => response.StatusCode == HttpStatusCode.Unauthorized;

    /// <summary>Content that produces the same bytes when it is serialized again: none, or buffered in memory.</summary>
    internal static bool CanResend(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent or ReadOnlyMemoryContent => true, // StringContent and FormUrlEncodedContent are ByteArrayContent
        MultipartContent multipart => multipart.All(CanResend),
        _ => false,
    };
}
