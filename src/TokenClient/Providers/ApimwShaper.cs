using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using TokenClient.Caching;
using TokenClient.Configuration;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>APIMW: key and secret as JSON, no grant type; the token and errors come wrapped in an envelope.</summary>
internal sealed class ApimwShaper : ProviderShaper
{
    internal static readonly Uri Endpoint = new("https://api.apimw.com/v1/auth/token");

    public override string Name => "Apimw";

    public override IReadOnlyCollection<OptionKey> UsedKeys { get; } = [];

    public override Uri? DefaultEndpoint(RequestSettings settings) => Endpoint;

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken) =>
        Post(context, JsonBody(Fields(
            context.Settings,
            ("api_key", context.Settings.ClientId),
            ("api_secret", context.Settings.ClientSecret))));

    public override IssuedToken ReadResponse(TokenRequestContext context, in Answer answer)
    {
        var (status, body) = (answer.Status, answer.Body);
        ApimwEnvelope? envelope = null;
        try
        {
            envelope = JsonSerializer.Deserialize(body, ApimwJsonContext.Default.ApimwEnvelope); // an empty body throws too
        }
        catch (JsonException)
        {
            // Described below by what the body is not.
        }

        if (envelope?.Error is { Code.Length: > 0 } error)
        {
            throw TokenErrors.FromOAuthError(context, status, error.Code, error.Message);
        }

        if (!OAuthResponseReader.IsSuccess(status))
        {
            throw TokenErrors.FromHttpStatus(context, status, body);
        }

        return envelope switch
        {
            null => throw TokenErrors.UnreadableResponse(context, status, "the response body is not an APIMW envelope"),
            { Success: not true } => throw TokenErrors.UnreadableResponse(context, status, "the envelope says success is not true and gives no error code"),
            { Data: null } => throw TokenErrors.UnreadableResponse(context, status, "the envelope has no data"),
            _ => OAuthResponseReader.Issue(context, answer, envelope.Data),
        };
    }
}

internal sealed class ApimwEnvelope
{
    [JsonPropertyName("success")]
    public bool? Success { get; set; }

    [JsonPropertyName("data")]
    public OAuthTokenResponse? Data { get; set; }

    [JsonPropertyName("error")]
    public ApimwError? Error { get; set; }
}

internal sealed class ApimwError
{
    [JsonPropertyName("code")]
    public string? Code { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}

[JsonSerializable(typeof(ApimwEnvelope))]
internal sealed partial class ApimwJsonContext : JsonSerializerContext;
