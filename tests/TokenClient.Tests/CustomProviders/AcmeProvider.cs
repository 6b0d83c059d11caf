using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TokenClient;

namespace TokenClient.Tests.CustomProviders;

// The README's example of a provider added without a fork (ReadmeExampleTests keeps the two the same).
// Acme's token endpoint takes {"key","secret","realm"} as JSON and answers {"result":{"jwt","ttl"}} or {"fault":"..."};
// its API answers 419 when a token has expired.
public sealed class AcmeProvider() : TokenProvider("Acme")
{
    public override Uri DefaultEndpoint(TokenClientOptions options) => new("https://auth.acme.example/v2/session");

    public override IEnumerable<string> Validate(TokenClientOptions options)
    {
        if (string.IsNullOrEmpty(options.Tenant))
        {
            yield return "Tenant is required when Provider is 'Acme': it is the Acme realm.";
        }
    }

    public override bool IsTokenRejected(HttpStatusCode status) => status is HttpStatusCode.Unauthorized or (HttpStatusCode)419;

    public override HttpRequestMessage CreateRequest(TokenProviderRequest request) =>
        new(HttpMethod.Post, request.Endpoint)
        {
            Content = JsonContent.Create(
                new Dictionary<string, string> { ["key"] = request.Options.ClientId!, ["secret"] = request.Options.ClientSecret!, ["realm"] = request.Tenant! },
                AcmeJson.Default.DictionaryStringString),
        };

    public override TokenProviderResponse ReadResponse(TokenProviderAnswer answer)
    {
        using var json = JsonDocument.Parse(answer.Body);
        if (json.RootElement.TryGetProperty("fault", out var fault))
        {
            throw answer.Failure(fault.GetString() ?? "UNKNOWN", json.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null);
        }

        var result = json.RootElement.GetProperty("result");
        return new TokenProviderResponse(result.GetProperty("jwt").GetString()!, TimeSpan.FromSeconds(result.GetProperty("ttl").GetInt32()));
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class AcmeJson : System.Text.Json.Serialization.JsonSerializerContext;
