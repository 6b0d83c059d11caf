using System.Net;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using TokenClient.Caching;
using TokenClient.Configuration;

namespace TokenClient.Endpoint;

/// <summary>
/// One provider's wire format: builds the token request and reads the response. The default
/// reading is RFC 6749's (5.1 success, 5.2 error); a provider overrides only what it does differently.
/// </summary>
internal abstract class ProviderShaper
{
    private static readonly MediaTypeWithQualityHeaderValue s_acceptJson = new("application/json");

    // Escape only what JSON requires: a secret such as "a+b/é" goes on the wire as the provider's
    // own examples write it, not as \u002B. The body is never embedded in HTML.
    private static readonly JsonWriterOptions s_jsonWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The name the <c>Provider</c> key takes.</summary>
    public abstract string Name { get; }

    /// <summary>Whether the provider renews with a refresh token (RFC 6749 section 6) when it has one.</summary>
    public virtual bool UsesRefreshTokens => false;

    /// <summary>The endpoint used when <see cref="TokenClientOptions.TokenEndpoint"/> is not set; null where the user must give one.</summary>
    public virtual Uri? DefaultEndpoint(RequestSettings settings) => null;

    /// <summary>
    /// Which of the keys only some providers send (<see cref="OptionKeys.SentByProvider"/>) this one sends;
    /// setting any other is a start-up error, not a value silently dropped.
    /// </summary>
    public abstract IReadOnlyCollection<OptionKey> UsedKeys { get; }

    /// <summary>What to say when neither <see cref="TokenClientOptions.TokenEndpoint"/> nor a default endpoint is there.</summary>
    public virtual string MissingEndpointProblem => $"TokenEndpoint is required when Provider is '{Name}'.";

    /// <summary>The provider's own configuration rules, as messages naming the key.</summary>
    public virtual IEnumerable<string> Validate(RequestSettings settings) => [];

    /// <summary>Whether the token endpoint may be read from an <see cref="TokenClientOptions.Authority"/>'s metadata; a provider with a fixed endpoint says no.</summary>
    public virtual bool TakesAuthority => false;

    /// <summary>
    /// For the fake token endpoint of TokenClient.Testing: sets made-up values where this provider needs more than a
    /// client id and secret to pass validation, and replaces the application's other secrets.
    /// </summary>
    public virtual void FillForFake(TokenClientOptions options)
    {
    }

    /// <summary>Whether an API answer with this status means the token was refused: 401, and for some providers 403.</summary>
    public virtual bool IsTokenRejected(HttpStatusCode status) => status == HttpStatusCode.Unauthorized;

    /// <summary>
    /// Whether the provider's token endpoint takes the client authentications of RFC 7523 and RFC 8705 in a form
    /// (<see cref="ClientAuthentication.PrivateKeyJwt"/>, <see cref="ClientAuthentication.Tls"/>); the providers with a
    /// wire format of their own take a secret.
    /// </summary>
    public virtual bool TakesStandardClientAuthentication => false;

    /// <summary>
    /// The form fields that authenticate the client in the body: <c>client_id</c> and <c>client_secret</c>, or with
    /// <see cref="ClientAuthentication.PrivateKeyJwt"/>, <c>client_id</c> and the attempt's assertion (RFC 7523 section 2.2).
    /// </summary>
    protected static (string Name, string? Value)[] ClientCredentials(TokenRequestContext context) => context.Settings.ClientAuthentication switch
    {
        ClientAuthentication.PrivateKeyJwt => [("client_id", context.Settings.ClientId), ("client_assertion_type", ClientAssertionType), ("client_assertion", context.ClientAssertion)],
        ClientAuthentication.Tls => [("client_id", context.Settings.ClientId)], // RFC 8705 section 2: the certificate authenticates
        _ => [("client_id", context.Settings.ClientId), ("client_secret", context.Settings.ClientSecret)],
    };

    /// <summary>RFC 7523 section 2.2's <c>client_assertion_type</c>.</summary>
    internal const string ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>Builds the token request; with a refresh token, where <see cref="UsesRefreshTokens"/>, the refresh grant.</summary>
    public abstract HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken);

    /// <summary>Reads the token endpoint's answer into the token issued, or throws <see cref="TokenRequestException"/>.</summary>
    public virtual IssuedToken ReadResponse(TokenRequestContext context, in Answer answer) => OAuthResponseReader.Read(context, answer);

    /// <summary>A JSON object of string fields, in the given order, sent as <c>application/json</c>.</summary>
    protected static HttpContent JsonBody(IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_jsonWriterOptions))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in fields)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }

        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>The fields, then the configured extra <c>Parameters</c>, leaving out those with no value.</summary>
    protected static List<KeyValuePair<string, string>> Fields(RequestSettings settings, params (string Name, string? Value)[] fields)
    {
        var list = new List<KeyValuePair<string, string>>(fields.Length + settings.Parameters.Count);
        foreach (var (name, value) in fields)
        {
            if (!string.IsNullOrEmpty(value))
            {
                list.Add(new(name, value));
            }
        }

        list.AddRange(settings.Parameters);
        return list;
    }

    /// <summary>A POST to the endpoint that asks for JSON back.</summary>
    protected static HttpRequestMessage Post(TokenRequestContext context, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, context.Endpoint) { Content = content };
        request.Headers.Accept.Add(s_acceptJson);
        return request;
    }
}
