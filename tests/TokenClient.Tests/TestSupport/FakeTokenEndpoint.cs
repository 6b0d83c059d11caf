using System.Collections.Concurrent;
using System.Net;
using System.Text;
using RichardSzalay.MockHttp;

namespace TokenClient.Tests.TestSupport;

/// <summary>A token endpoint in memory: counts and records every request and answers as the test says.</summary>
internal sealed class FakeTokenEndpoint
{
    private int _count;

    public FakeTokenEndpoint()
    {
        Handler.Fallback.Respond(async request =>
        {
            var number = Interlocked.Increment(ref _count);
            Requests.Enqueue(await RecordedRequest.CaptureAsync(request));
            return await Respond(number);
        });
    }

    public MockHttpMessageHandler Handler { get; } = new();

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public int RequestCount => Volatile.Read(ref _count);

    /// <summary>Answers request number n (from 1); by default a Bearer token "token-n" valid for an hour.</summary>
    public Func<int, Task<HttpResponseMessage>> Respond { get; set; } = n => Task.FromResult(Token($"token-{n}", 3600));

    public static HttpResponseMessage Token(string value, double expiresIn) =>
        Json(HttpStatusCode.OK, $$"""{"access_token":"{{value}}","token_type":"bearer","expires_in":{{expiresIn.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""");

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}

/// <summary>What a request carried, read before the client disposes it.</summary>
internal sealed record RecordedRequest(
    HttpMethod Method,
    Uri? Uri,
    IReadOnlyDictionary<string, string> Headers,
    string? ContentType,
    string Body,
    IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    public static async Task<RecordedRequest> CaptureAsync(HttpRequestMessage request)
    {
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync();
        return new RecordedRequest(
            request.Method, request.RequestUri, headers, request.Content?.Headers.ContentType?.ToString(), body, await FieldsOf(request.Content, body));
    }

    /// <summary>The body's fields in order, whichever of form, multipart or JSON carried them.</summary>
    private static async Task<IReadOnlyList<KeyValuePair<string, string>>> FieldsOf(HttpContent? content, string body)
    {
        switch (content)
        {
            case MultipartFormDataContent multipart:
                var parts = new List<KeyValuePair<string, string>>();
                foreach (var part in multipart)
                {
                    parts.Add(new(part.Headers.ContentDisposition!.Name!.Trim('"'), await part.ReadAsStringAsync()));
                }

                return parts;
            case FormUrlEncodedContent:
                return body.Split('&').Select(pair => pair.Split('=')).Select(p => new KeyValuePair<string, string>(Decode(p[0]), Decode(p[1]))).ToList();
            case not null when content.Headers.ContentType?.MediaType == "application/json":
                using (var document = System.Text.Json.JsonDocument.Parse(body))
                {
                    return document.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.ValueKind == System.Text.Json.JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText())).ToList();
                }

            default:
                return [];
        }

        static string Decode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
    }

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
