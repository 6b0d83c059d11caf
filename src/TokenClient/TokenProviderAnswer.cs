using System.Net;

namespace TokenClient;

/// <summary>What the token endpoint answered to one request, for <see cref="TokenProvider.ReadResponse"/> to read.</summary>
public sealed class TokenProviderAnswer
{
    private readonly Func<TokenProviderResponse> _readOAuth;
    private readonly Func<string, string?, TokenRequestException> _failure;

    // The reading and the errors are the library's (Providers/CustomShaper), handed in: the public types use no internal folder.
    internal TokenProviderAnswer(HttpStatusCode status, byte[] body, Func<TokenProviderResponse> readOAuth, Func<string, string?, TokenRequestException> failure)
    {
        Status = status;
        Body = body;
        _readOAuth = readOAuth;
        _failure = failure;
    }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The body, whole (within <see cref="TokenClientOptions.MaxResponseSize"/>).</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Reads the answer as RFC 6749 says (a JSON token response, or an OAuth error), as the built-in providers do.</summary>
    public TokenProviderResponse ReadOAuth() => _readOAuth();

    /// <summary>
    /// The exception to throw for an error the provider reports its own way: its message names the client, the endpoint
    /// and the status, and the client's secrets are removed from <paramref name="error"/> and <paramref name="description"/>.
    /// Transient when the status is 408, 429 or 5xx.
    /// </summary>
    public TokenRequestException Failure(string error, string? description = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(error);
        return _failure(error, description);
    }
}
