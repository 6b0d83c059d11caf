using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace TokenClient.Tests.TestSupport;

/// <summary>A token endpoint in memory: counts and records every request and answers, or fails, as the test says.</summary>
internal sealed class FakeTokenEndpoint
{
    private int _count;

    public FakeTokenEndpoint(TimeProvider? time = null) => Handler = new Responder(this, time ?? TimeProvider.System);

    /// <summary>
    /// The primary handler to give the token endpoint's HttpClient. A handler of our own rather than
    /// MockHttp's: a fault must be able to throw (a refused connection, a reset) and to see the
    /// request's cancellation (a server that never answers), and MockHttp's responders do neither.
    /// </summary>
    public HttpMessageHandler Handler { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public int RequestCount => Volatile.Read(ref _count);

    /// <summary>When each request arrived, on the endpoint's clock.</summary>
    public ConcurrentQueue<DateTimeOffset> RequestTimes { get; } = new();

    /// <summary>Answers request number n (from 1); by default a Bearer token "token-n" valid for an hour.</summary>
    public Func<int, Task<HttpResponseMessage>> Respond
    {
        get => n => RespondWith(n, CancellationToken.None);
        set => RespondWith = (n, _) => value(n);
    }

    /// <summary>As <see cref="Respond"/>, for answers that must see the request being cancelled (a server that never answers).</summary>
    public Func<int, CancellationToken, Task<HttpResponseMessage>> RespondWith { get; set; } = (n, _) => Task.FromResult(Token($"token-{n}", 3600));

    /// <summary>Where set, answers from what request number n carried (its fields), in place of <see cref="RespondWith"/>.</summary>
    public Func<RecordedRequest, int, Task<HttpResponseMessage>>? RespondTo { get; set; }

    public static HttpResponseMessage Token(string value, double expiresIn) =>
        Json(HttpStatusCode.OK, $$"""{"access_token":"{{value}}","token_type":"bearer","expires_in":{{expiresIn.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""");

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private sealed class Responder(FakeTokenEndpoint owner, TimeProvider time) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref owner._count);
            owner.RequestTimes.Enqueue(time.GetUtcNow());
            var recorded = await RecordedRequest.CaptureAsync(request);
            owner.Requests.Enqueue(recorded);
            return owner.RespondTo is { } respondTo ? await respondTo(recorded, number) : await owner.RespondWith(number, cancellationToken);
        }
    }
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
