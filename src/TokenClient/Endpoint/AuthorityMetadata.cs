using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace TokenClient.Endpoint;

/// <summary>
/// The token endpoint an <see cref="TokenClientOptions.Authority"/> publishes in its metadata: OpenID Connect Discovery's
/// <c>/.well-known/openid-configuration</c>, else RFC 8414's <c>/.well-known/oauth-authorization-server</c>. Read through
/// the token endpoint's own client (no redirects, the same size limit), checked (the issuer is the authority, the
/// endpoint is https), kept for a day, and read again after a failed token request.
/// </summary>
internal sealed class AuthorityMetadata(Uri authority, bool mutualTls, TimeProvider time)
{
    /// <summary>After a failed read, how long the last good endpoint is used before the metadata is read again.</summary>
    internal static readonly TimeSpan RetryAfterFailedRead = TimeSpan.FromMinutes(1);

    /// <summary>How long the metadata is kept before it is read again.</summary>
    internal static readonly TimeSpan RefreshAfter = TimeSpan.FromDays(1);

    private static readonly MediaTypeWithQualityHeaderValue s_json = new("application/json");

    private readonly SemaphoreSlim _reading = new(1, 1);
    private volatile Discovered? _discovered;

    /// <summary>The token endpoint: the one read less than a day ago, else read now.</summary>
    public async ValueTask<Uri> TokenEndpointAsync(TokenRequestContext context, TokenEndpointTransport transport, CancellationToken cancellationToken)
    {
        if (Current() is { } endpoint)
        {
            return endpoint;
        }

        await _reading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Current() is { } readMeanwhile)
            {
                return readMeanwhile;
            }

            try
            {
                var discovered = await ReadAsync(context, transport, cancellationToken).ConfigureAwait(false);
                _discovered = discovered;
                return discovered.TokenEndpoint;
            }
            catch (TokenRequestException) when (_discovered is { } lastGood)
            {
                // The metadata cannot be read now: the endpoint read before goes on serving, and the metadata is tried
                // again a minute later, not on every request.
                _discovered = lastGood with { ReadAt = time.GetUtcNow() - RefreshAfter + RetryAfterFailedRead };
                return lastGood.TokenEndpoint;
            }
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>After a token request that did not reach an OAuth endpoint (unreachable, 404, a redirect): the next one reads
    /// the metadata again, since the endpoint may have moved; the endpoint read before stays the fallback.</summary>
    public void Forget()
    {
        if (_discovered is { } discovered)
        {
            _discovered = discovered with { ReadAt = DateTimeOffset.MinValue };
        }
    }

    private Uri? Current() => _discovered is { } d && time.GetUtcNow() - d.ReadAt < RefreshAfter ? d.TokenEndpoint : null;

    private async Task<Discovered> ReadAsync(TokenRequestContext context, TokenEndpointTransport transport, CancellationToken cancellationToken)
    {
        var openId = new Uri(authority.AbsoluteUri.TrimEnd('/') + "/.well-known/openid-configuration");
        var answer = await FetchAsync(context, transport, openId, cancellationToken).ConfigureAwait(false);
        var read = openId;
        if (answer.Status == HttpStatusCode.NotFound)
        {
            // RFC 8414 section 3: the well-known segment goes between the host and the issuer's path.
            var path = authority.AbsolutePath.TrimEnd('/');
            read = new Uri(authority, "/.well-known/oauth-authorization-server" + path);
            answer = await FetchAsync(context, transport, read, cancellationToken).ConfigureAwait(false);
        }

        var readContext = context with { Endpoint = read };
        if (answer.Status != HttpStatusCode.OK)
        {
            throw TokenErrors.Metadata(readContext, authority, $"HTTP {(int)answer.Status} ({answer.Status})", TokenErrors.IsTransient(answer.Status));
        }

        var (issuer, tokenEndpoint) = Parse(readContext, answer.Body);
        if (!string.Equals(WithoutOneSlash(issuer), WithoutOneSlash(authority.OriginalString), StringComparison.Ordinal))
        {
            throw TokenErrors.Metadata(readContext, authority, $"its issuer '{TokenErrors.Quote(readContext, issuer)}' is not the Authority", transient: false);
        }

        if (!Uri.TryCreate(tokenEndpoint, UriKind.Absolute, out var endpoint)
            || !Origins.IsHttpsOrLoopback(endpoint)
            || (endpoint.Scheme == Uri.UriSchemeHttp && !authority.IsLoopback)) // plain http only from a loopback authority
        {
            throw TokenErrors.Metadata(readContext, authority, $"its token_endpoint '{TokenErrors.Quote(readContext, tokenEndpoint)}' is not an https URI", transient: false);
        }

        // The credentials go where the metadata says: only to the Authority's own host, whatever a tampered document names.
        if (!string.Equals(endpoint.IdnHost, authority.IdnHost, StringComparison.OrdinalIgnoreCase) || endpoint.Port != authority.Port || !string.IsNullOrEmpty(endpoint.UserInfo))
        {
            throw TokenErrors.Metadata(readContext, authority,
                $"its token_endpoint '{TokenErrors.Quote(readContext, endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped))}' is not on the Authority's host; set TokenEndpoint for a provider whose endpoint is elsewhere", transient: false);
        }

        return new Discovered(endpoint, time.GetUtcNow());
    }

    private static async Task<Answer> FetchAsync(TokenRequestContext context, TokenEndpointTransport transport, Uri address, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        request.Headers.Accept.Add(s_json);
        return await transport.FetchAsync(context with { Endpoint = address }, request, cancellationToken).ConfigureAwait(false);
    }

    private static string WithoutOneSlash(string uri) => uri.EndsWith('/') ? uri[..^1] : uri;

    private (string Issuer, string TokenEndpoint) Parse(TokenRequestContext context, byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("issuer", out var issuer) && issuer.ValueKind == JsonValueKind.String
                && root.TryGetProperty("token_endpoint", out var endpoint) && endpoint.ValueKind == JsonValueKind.String)
            {
                // RFC 8705 section 5: with mutual TLS, the endpoint that takes a client certificate, where it is another.
                if (mutualTls && root.TryGetProperty("mtls_endpoint_aliases", out var aliases) && aliases.ValueKind == JsonValueKind.Object
                    && aliases.TryGetProperty("token_endpoint", out var alias) && alias.ValueKind == JsonValueKind.String)
                {
                    return (issuer.GetString()!, alias.GetString()!);
                }

                return (issuer.GetString()!, endpoint.GetString()!);
            }
        }
        catch (JsonException)
        {
            // Not JSON: said below.
        }

        // Stryker disable once all : a transient failure: a whole answer may come next time
        throw TokenErrors.Metadata(context, authority, "it is not a JSON object with an issuer and a token_endpoint", transient: true);
    }

    private sealed record Discovered(Uri TokenEndpoint, DateTimeOffset ReadAt);
}
