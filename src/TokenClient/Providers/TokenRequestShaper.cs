using System.Net;
using System.Net.Http.Headers;

namespace TokenClient.Providers;

/// <summary>
/// One provider's wire format: builds the token request and reads the response. The default
/// reading is RFC 6749's (5.1 success, 5.2 error); a provider overrides only what it does differently.
/// </summary>
internal abstract class TokenRequestShaper
{
    private static readonly MediaTypeWithQualityHeaderValue s_acceptJson = new("application/json");

    /// <summary>The endpoint used when <see cref="TokenClientOptions.TokenEndpoint"/> is not set; null where the user must give one.</summary>
    public virtual Uri? DefaultEndpoint(TokenClientOptions options) => null;

    /// <summary>The provider's own configuration rules, as messages naming the key.</summary>
    public virtual IEnumerable<string> Validate(TokenClientOptions options) => [];

    /// <summary>Builds the token request.</summary>
    public abstract HttpRequestMessage CreateRequest(TokenRequestContext context);

    /// <summary>Reads the token endpoint's answer into a token, or throws <see cref="TokenRequestException"/>.</summary>
    public virtual TokenResponse ReadResponse(TokenRequestContext context, HttpStatusCode status, ReadOnlySpan<byte> body) =>
        OAuthResponseReader.Read(context, status, body);

    /// <summary>A POST to the endpoint that asks for JSON back.</summary>
    protected static HttpRequestMessage Post(TokenRequestContext context, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, context.Endpoint) { Content = content };
        request.Headers.Accept.Add(s_acceptJson);
        return request;
    }
}
