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
    /// <summary>Where <see cref="HttpRequestMessageTokenExtensions.WithTokenTenant"/> puts a request's tenant.</summary>
    internal static readonly HttpRequestOptionsKey<string> TenantOption = new("TokenClient.Tenant");

    private readonly ITokenClient _client;
    private readonly Func<string, ITokenClient> _tenantClient;
    private readonly Func<HttpStatusCode, bool> _isTokenRejected;
    private readonly string _clientName;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly ILogger _logger;

    /// <param name="client">The client's token client, for requests with no tenant of their own.</param>
    /// <param name="tenantClient">The token client of one tenant, for requests that name one.</param>
    /// <param name="isTokenRejected">Which API statuses mean the token was refused (the provider's rule).</param>
    /// <param name="clientName">The client's name, for logs.</param>
    /// <param name="headers">Headers to add to every request.</param>
    /// <param name="logger">The logger.</param>
    public TokenHandler(
        ITokenClient client,
        Func<string, ITokenClient> tenantClient,
        Func<HttpStatusCode, bool> isTokenRejected,
        string clientName,
        IEnumerable<KeyValuePair<string, string>> headers,
        ILogger logger)
    {
        _client = client;
        _tenantClient = tenantClient;
        _isTokenRejected = isTokenRejected;
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

        var client = request.Options.TryGetValue(TenantOption, out var tenant) ? _tenantClient(tenant) : _client;
        var token = await client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = token.AuthorizationHeader;
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!_isTokenRejected(response.StatusCode))
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

        client.Invalidate(token);
        var renewed = await client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        Log.ResendingWithNewToken(_logger, (int)response.StatusCode, method, host, _clientName);
        Telemetry.Resends.Add(1, new KeyValuePair<string, object?>("tokenclient.client", _clientName));
        response.Dispose();
        request.Headers.Authorization = renewed.AuthorizationHeader;
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Content that produces the same bytes when it is serialized again: none, or buffered in memory.</summary>
    internal static bool CanResend(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent or ReadOnlyMemoryContent => true, // StringContent and FormUrlEncodedContent are ByteArrayContent
        MultipartContent multipart => multipart.All(CanResend),
        _ => false,
    };
}
