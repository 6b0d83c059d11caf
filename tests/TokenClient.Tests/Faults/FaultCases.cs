using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Faults;

/// <summary>What a fault case expects: a token, or a typed failure after a number of requests.</summary>
/// <remarks>Timeouts on a clock driven in steps may fit one attempt more or less: <paramref name="RequestsAtLeast"/> says the count is a floor.</remarks>
public sealed record FaultExpectation(
    bool Recovers, HttpStatusCode? Status = null, string? Error = null, bool Transient = false, int Requests = 1, string? MessagePart = null, bool RequestsAtLeast = false);

/// <summary>One way a token endpoint misbehaves, and what the client must make of it.</summary>
public sealed record FaultCase(
    string Name,
    Func<int, CancellationToken, Task<HttpResponseMessage>> Respond,
    FaultExpectation Expect,
    string Provider = "Generic",
    Action<TokenClientOptions>? Configure = null)
{
    public override string ToString() => Name;
}

/// <summary>The fault matrix: every case runs with retries on (3, tiny delays on fake time).</summary>
public static class FaultCases
{
    public const string Secret = "fault-matrix-client-secret";
    public const string LeakyToken = "leaky-access-token-0123456789";
    public const string Password = "fault-matrix-user-password";
    public const int Retries = 3;

    private const int AllAttempts = Retries + 1;

    public static IReadOnlyList<FaultCase> All { get; } = Build();

    public static FaultCase Get(string name) => All.Single(c => c.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in All)
        {
            data.Add(c.Name);
        }

        return data;
    }

    private static List<FaultCase> Build()
    {
        var cases = new List<FaultCase>
        {
            // Bodies that are not a token response.
            Always("HTML page with 200", () => Html(HttpStatusCode.OK), Unreadable("not valid JSON")),
            Always("HTML page with 500", () => Html(HttpStatusCode.InternalServerError), Transient(HttpStatusCode.InternalServerError, "<html>")),
            Always("empty body with 200", () => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("") }, Unreadable("empty")),
            Always("truncated JSON", () => Json($$"""{"access_token":"{{LeakyToken}}","expires_in":36"""), Unreadable("malformed, truncated")),
            Always("JSON array", () => Json("""[{"access_token":"x"}]"""), Unreadable("not a JSON object")),
            Always("JSON string", () => Json("\"just a string\""), Unreadable("not a JSON object")),
            Always("JSON null", () => Json("null"), Unreadable("JSON null")),
            Always("missing access_token", () => Json("""{"token_type":"Bearer","expires_in":3600}"""), Unreadable("no access_token")),
            Always("empty access_token", () => Json("""{"access_token":"","token_type":"Bearer","expires_in":3600}"""), Unreadable("no access_token")),
            Always("access_token a number", () => Json("""{"access_token":12345,"expires_in":3600}"""), Unreadable("$.access_token")),
            Always("expires_in negative", () => Token("-60"), Fail(HttpStatusCode.OK, "expires_in must be a positive")),
            Always("expires_in zero", () => Token("0"), Fail(HttpStatusCode.OK, "expires_in must be a positive")),
            Always("expires_in non-numeric string", () => Token("\"soon\""), Unreadable("$.expires_in")),
            Always("expires_in an object", () => Token("{}"), Unreadable("$.expires_in")),
            Always("expires_in tiny", () => Token("1e-300"), Fail(HttpStatusCode.OK, "expires_in of 1E-300 s is below the minimum lifetime")),
            Always("expires_in under the floor", () => Token("1.5"), Fail(HttpStatusCode.OK, "below the minimum lifetime of 2 s")),
            Always("access_token with CR/LF", () => Json("""{"access_token":"abc\r\nX-Injected: 1","token_type":"Bearer","expires_in":3600}"""), Fail(HttpStatusCode.OK, "access_token has a character that RFC 6750 does not allow in a bearer token (at position 3)")),
            Always("access_token with non-ASCII", () => Json("""{"access_token":"töken","token_type":"Bearer","expires_in":3600}"""), Fail(HttpStatusCode.OK, "(at position 1)")),
            Always("access_token with a space", () => Json("""{"access_token":"two words","token_type":"Bearer","expires_in":3600}"""), Fail(HttpStatusCode.OK, "(at position 3)")),
            Always("access_token of padding only", () => Json("""{"access_token":"==","token_type":"Bearer","expires_in":3600}"""), Fail(HttpStatusCode.OK, "(at position 0)")),
            Always("access_token with '=' inside", () => Json("""{"access_token":"ab=cd","token_type":"Bearer","expires_in":3600}"""), Fail(HttpStatusCode.OK, "(at position 3)")),
            Always("unknown token_type", () => Json($$"""{"access_token":"{{LeakyToken}}","token_type":"mac","expires_in":3600}"""), Fail(HttpStatusCode.OK, "token_type 'mac'")),
            Always("200 with an error field", () => Json("""{"error":"invalid_client","error_description":"Client authentication failed."}"""), Fail(HttpStatusCode.OK, error: "invalid_client")),

            // Bodies that are odd but usable.
            Always("extra unknown fields", () => Json($$$"""{"access_token":"{{{LeakyToken}}}","token_type":"Bearer","expires_in":3600,"id_token":"x","nested":{"a":[1,2]}}"""), Recover()),
            Always("expires_in huge", () => Token("99999999999"), Recover()),
            Always("expires_in fractional", () => Token("59.5"), Recover()),
            Always("expires_in null", () => Token("null"), Recover()),
            Always("expires_in numeric string", () => Token("\"3600\""), Recover()),
            Always("token_type missing", () => Json($$"""{"access_token":"{{LeakyToken}}","expires_in":3600}"""), Recover()),
            Always("access_token with every RFC 6750 character and padding", () => Json("""{"access_token":"aZ09-._~+/==","token_type":"Bearer","expires_in":3600}"""), Recover()),
            Always("expires_in at the floor", () => Token("2"), Recover()),
            Always("token_type lower case", () => Json($$"""{"access_token":"{{LeakyToken}}","token_type":"bearer","expires_in":3600}"""), Recover()),

            // RFC 6749 5.2 errors: never retried.
            Always("invalid_request", () => OAuthError(HttpStatusCode.BadRequest, "invalid_request"), Fail(HttpStatusCode.BadRequest, error: "invalid_request")),
            Always("invalid_client", () => OAuthError(HttpStatusCode.Unauthorized, "invalid_client"), Fail(HttpStatusCode.Unauthorized, error: "invalid_client")),
            Always("invalid_grant", () => OAuthError(HttpStatusCode.BadRequest, "invalid_grant"), Fail(HttpStatusCode.BadRequest, error: "invalid_grant")),
            Always("unauthorized_client", () => OAuthError(HttpStatusCode.BadRequest, "unauthorized_client"), Fail(HttpStatusCode.BadRequest, error: "unauthorized_client")),
            Always("unsupported_grant_type", () => OAuthError(HttpStatusCode.BadRequest, "unsupported_grant_type"), Fail(HttpStatusCode.BadRequest, error: "unsupported_grant_type")),
            Always("invalid_scope", () => OAuthError(HttpStatusCode.BadRequest, "invalid_scope"), Fail(HttpStatusCode.BadRequest, error: "invalid_scope")),
            Always("temporarily_unavailable with 503", () => OAuthError(HttpStatusCode.ServiceUnavailable, "temporarily_unavailable"),
                new FaultExpectation(false, HttpStatusCode.ServiceUnavailable, "temporarily_unavailable", Transient: true, Requests: AllAttempts)),

            // APIMW's envelope.
            Always("APIMW error envelope with 200", () => ApimwError(HttpStatusCode.OK), Fail(HttpStatusCode.OK, error: "INVALID_CREDENTIALS"), "Apimw"),
            Always("APIMW error envelope with 401", () => ApimwError(HttpStatusCode.Unauthorized), Fail(HttpStatusCode.Unauthorized, error: "INVALID_CREDENTIALS"), "Apimw"),

            // Wokelo's password grant: the password is a secret like the client secret.
            Always("Wokelo password refused", () => OAuthError(HttpStatusCode.BadRequest, "invalid_grant"), Fail(HttpStatusCode.BadRequest, error: "invalid_grant"), "Wokelo", WokeloAccount),
            Always("Wokelo server error", () => Html(HttpStatusCode.ServiceUnavailable), Transient(HttpStatusCode.ServiceUnavailable), "Wokelo", WokeloAccount),

            // Statuses with no usable body.
            Always("400", () => Status(HttpStatusCode.BadRequest), Fail(HttpStatusCode.BadRequest)),
            Always("401", () => Status(HttpStatusCode.Unauthorized), Fail(HttpStatusCode.Unauthorized)),
            Always("403", () => Status(HttpStatusCode.Forbidden), Fail(HttpStatusCode.Forbidden)),
            Always("404", () => Status(HttpStatusCode.NotFound), Fail(HttpStatusCode.NotFound)),
            Always("405", () => Status(HttpStatusCode.MethodNotAllowed), Fail(HttpStatusCode.MethodNotAllowed)),
            Always("408", () => Status(HttpStatusCode.RequestTimeout), Transient(HttpStatusCode.RequestTimeout)),
            Always("429 without Retry-After", () => Status(HttpStatusCode.TooManyRequests), Transient(HttpStatusCode.TooManyRequests)),
            Always("429 with Retry-After seconds", () => RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(2))), Transient(HttpStatusCode.TooManyRequests)),
            Always("429 with Retry-After beyond the cap", () => RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromMinutes(10))),
                new FaultExpectation(false, HttpStatusCode.TooManyRequests, Transient: true, Requests: 1)),
            Always("500", () => Status(HttpStatusCode.InternalServerError), Transient(HttpStatusCode.InternalServerError)),
            Always("502", () => Status(HttpStatusCode.BadGateway), Transient(HttpStatusCode.BadGateway)),
            Always("503", () => Status(HttpStatusCode.ServiceUnavailable), Transient(HttpStatusCode.ServiceUnavailable)),
            Always("504", () => Status(HttpStatusCode.GatewayTimeout), Transient(HttpStatusCode.GatewayTimeout)),

            // Transport failures.
            new("network error", (_, _) => throw new HttpRequestException("Connection refused (auth.test:443)", new System.Net.Sockets.SocketException(111)),
                new FaultExpectation(false, null, null, Transient: true, Requests: AllAttempts, MessagePart: "could not reach auth.test")),
            new("connection reset mid-body", (_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new ResettingStream()) }),
                new FaultExpectation(false, null, null, Transient: true, Requests: AllAttempts, MessagePart: "could not reach auth.test")),
            new("server never answers", async (_, ct) =>
                {
                    await Task.Delay(Timeout.Infinite, ct);
                    throw new InvalidOperationException("unreachable");
                },
                new FaultExpectation(false, null, null, Transient: true, Requests: 2, MessagePart: "no answer within 30 s", RequestsAtLeast: true)),
            new("slow server past the attempt timeout", async (n, ct) =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(15), ct);
                    return Json($$"""{"access_token":"{{LeakyToken}}","expires_in":3600}""");
                },
                new FaultExpectation(false, null, null, Transient: true, Requests: 1, MessagePart: "no answer within 10 s"),
                Configure: o => o.MaxRetries = 0),
            Always("body over the size limit (Content-Length)", () => Json(new string(' ', 2048) + "{}"), Fail(HttpStatusCode.OK, "larger than the limit of 1024 bytes"), configure: o => o.MaxResponseSize = 1024),
            Always("body over the size limit (streamed)", () => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new ChunkedStream(4096)) },
                Fail(HttpStatusCode.OK, "larger than the limit of 1024 bytes"), configure: o => o.MaxResponseSize = 1024),

            // Recoveries: the retry gets a token.
            new("503 then a token", (n, _) => Task.FromResult(n == 1 ? Status(HttpStatusCode.ServiceUnavailable) : Good()), new FaultExpectation(true, Requests: 2)),
            new("429 with Retry-After then a token", (n, _) => Task.FromResult(n == 1 ? RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(3))) : Good()), new FaultExpectation(true, Requests: 2)),
            new("network error then a token", (n, _) => n == 1 ? throw new HttpRequestException("reset") : Task.FromResult(Good()), new FaultExpectation(true, Requests: 2)),
            new("timeout then a token", async (n, ct) =>
                {
                    if (n == 1)
                    {
                        await Task.Delay(Timeout.Infinite, ct);
                    }

                    return Good();
                },
                new FaultExpectation(true, Requests: 2)),
            new("three 502s then a token", (n, _) => Task.FromResult(n <= 3 ? Status(HttpStatusCode.BadGateway) : Good()), new FaultExpectation(true, Requests: 4)),
        };
        return cases;
    }

    private static void WokeloAccount(TokenClientOptions options)
    {
        options.Username = "sam@faults.test";
        options.Password = Password;
    }

    private static FaultCase Always(string name, Func<HttpResponseMessage> response, FaultExpectation expect, string provider = "Generic", Action<TokenClientOptions>? configure = null) =>
        new(name, (_, _) => Task.FromResult(response()), expect, provider, configure);

    private static FaultExpectation Fail(HttpStatusCode status, string? messagePart = null, string? error = null) => new(false, status, error, false, 1, messagePart);

    private static FaultExpectation Transient(HttpStatusCode status, string? messagePart = null) => new(false, status, null, true, AllAttempts, messagePart);

    // A 200 whose body cannot be read as a token response: the next answer may be whole, so it is retried.
    private static FaultExpectation Unreadable(string messagePart) => Transient(HttpStatusCode.OK, messagePart);

    private static FaultExpectation Recover() => new(true);

    private static HttpResponseMessage Json(string body, HttpStatusCode status = HttpStatusCode.OK) => FakeTokenEndpoint.Json(status, body);

    private static HttpResponseMessage Token(string expiresIn) => Json($$"""{"access_token":"{{LeakyToken}}","token_type":"Bearer","expires_in":{{expiresIn}}}""");

    private static HttpResponseMessage Good() => Token("3600");

    private static HttpResponseMessage Status(HttpStatusCode status) => new(status);

    private static HttpResponseMessage OAuthError(HttpStatusCode status, string error) =>
        Json($$"""{"error":"{{error}}","error_description":"The server says {{error}}."}""", status);

    private static HttpResponseMessage ApimwError(HttpStatusCode status) =>
        Json("""{"success":false,"error":{"code":"INVALID_CREDENTIALS","message":"Invalid API Key or Secret"}}""", status);

    private static HttpResponseMessage RetryAfter(RetryConditionHeaderValue retryAfter)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = retryAfter;
        return response;
    }

    private static HttpResponseMessage Html(HttpStatusCode status) => new(status)
    {
        Content = new StringContent($"<html><body><h1>{(int)status}</h1>Something went wrong</body></html>", Encoding.UTF8, "text/html"),
    };

    /// <summary>A body that breaks off with a reset after its first bytes.</summary>
    private sealed class ResettingStream : MemoryStream
    {
        private int _reads;

        public ResettingStream()
            : base(Encoding.UTF8.GetBytes($$"""{"access_token":"{{LeakyToken}}",""")) { }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _reads++ == 0 ? base.ReadAsync(buffer, cancellationToken) : throw new IOException("Connection reset by peer", new System.Net.Sockets.SocketException(104));
    }

    /// <summary>A body of unknown length that goes on and on.</summary>
    private sealed class ChunkedStream(int length) : Stream
    {
        private int _left = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 256), _left);
            Array.Fill(buffer, (byte)' ', offset, n);
            _left -= n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
