using System.Net;
using System.Text;
using Polly.Timeout;
using TokenClient.Credentials;
using TokenClient.Endpoint;

namespace TokenClient.Tests.Endpoint;

public class TokenErrorsTests
{
    private const string Secret = "errors-client-secret";

    private static readonly TokenRequestContext Context =
        RequestContexts.For("crm", new TokenClientOptions { ClientId = "id", ClientSecret = Secret }, new Uri("https://auth.test/token"));

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData((HttpStatusCode)499, false)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    public void IsTransient_ByStatus(HttpStatusCode status, bool transient) => TokenErrors.IsTransient(status).Should().Be(transient);

    [Theory]
    [InlineData("temporarily_unavailable", true)]
    [InlineData("server_error", true)]
    [InlineData("invalid_client", false)]
    public void FromOAuthError_On400_IsTransientOnlyForTheServersOwnTemporaryErrors(string error, bool transient) =>
        TokenErrors.FromOAuthError(Context, HttpStatusCode.BadRequest, error, null).IsTransient.Should().Be(transient);

    [Fact]
    public void FromOAuthError_UnknownCodeAndDescription_AreRedactedAndQuoted()
    {
        var error = TokenErrors.FromOAuthError(Context, HttpStatusCode.BadRequest, $"bad_{Secret}", $"secret {Secret} refused");

        error.Error.Should().Be("bad_[redacted]");
        error.ErrorDescription.Should().Be("secret [redacted] refused");
        error.Message.Should().Be("Token client 'crm' could not get a token from auth.test: HTTP 400 (BadRequest), error 'bad_[redacted]': secret [redacted] refused.");
    }

    [Fact]
    public void FromOAuthError_KnownCodeWithoutDescription_KeepsTheCode()
    {
        var error = TokenErrors.FromOAuthError(Context, HttpStatusCode.Unauthorized, "invalid_client", null);

        error.Error.Should().Be("invalid_client");
        error.ErrorDescription.Should().BeNull();
        error.Message.Should().EndWith("HTTP 401 (Unauthorized), error 'invalid_client'.");
    }

    [Theory]
    [InlineData("{\"note\":\"x\"}")]
    [InlineData("  [1]")]
    [InlineData("\n {\"a\":1}")]
    [InlineData("your access TOKEN was x")]
    public void FromHttpStatus_BodyThatMayHoldAToken_IsNotQuoted(string body)
    {
        var error = TokenErrors.FromHttpStatus(Context, HttpStatusCode.BadGateway, Encoding.UTF8.GetBytes(body));

        error.Message.Should().EndWith("HTTP 502 (BadGateway), and a body that is not an OAuth error.");
        error.IsTransient.Should().BeTrue();
    }

    [Fact]
    public void FromHttpStatus_EmptyBody_SaysSo() =>
        TokenErrors.FromHttpStatus(Context, HttpStatusCode.Forbidden, []).Message.Should().EndWith("HTTP 403 (Forbidden), and an empty body.");

    [Fact]
    public void FromHttpStatus_PlainTextBody_IsQuotedOnOneLineWithoutItsSecret()
    {
        var error = TokenErrors.FromHttpStatus(Context, HttpStatusCode.BadGateway, Encoding.UTF8.GetBytes($"Bad\r\ngateway\tfor {Secret}\u0007!"));

        error.Message.Should().EndWith("and a body that is not an OAuth error: \"Bad  gateway for [redacted] !\".");
    }

    [Fact]
    public void Quote_LongText_IsCutAt160CharactersWithAnEllipsis()
    {
        var exactly = new string('a', 160);
        var longer = new string('b', 161);

        TokenErrors.Quote(Context, exactly).Should().Be(exactly);
        TokenErrors.Quote(Context, longer).Should().Be(new string('b', 160) + "…");
        TokenErrors.Quote(Context, "  padded  ").Should().Be("padded");
    }

    [Fact]
    public void GaveUp_ReportsTheTotalTimeAndTheLastFailure()
    {
        var last = TokenErrors.FromHttpStatus(Context, HttpStatusCode.ServiceUnavailable, []);
        var timeout = new TimeoutRejectedException("timed out", TimeSpan.FromSeconds(2.5));

        var error = TokenErrors.GaveUp(Context, last, timeout);

        error.Message.Should().Be($"Token client 'crm' gave up on auth.test after 2.5 s of retries; the last attempt said: {last.Message}");
        error.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        error.IsTransient.Should().BeTrue();
        error.InnerException.Should().BeSameAs(last);
    }

    [Fact]
    public void TimedOut_WithAndWithoutALimit()
    {
        var inner = new TaskCanceledException();

        TokenErrors.TimedOut(Context, inner, TimeSpan.FromMilliseconds(1500)).Message.Should().Be("Token client 'crm' timed out waiting for auth.test: no answer within 1.5 s.");
        var unbounded = TokenErrors.TimedOut(Context, inner, null);
        unbounded.Message.Should().Be("Token client 'crm' timed out waiting for auth.test.");
        unbounded.IsTransient.Should().BeTrue();
        unbounded.InnerException.Should().BeSameAs(inner);
    }

    [Fact]
    public void Unreachable_TransportErrorQuotingTheSecret_KeepsItsKindWithoutTheSecret()
    {
        var io = TokenErrors.Unreachable(Context, new IOException($"reset after {Secret}"));
        var http = TokenErrors.Unreachable(Context, new HttpRequestException($"bad header {Secret}"));
        var clean = new HttpRequestException("refused");

        io.InnerException.Should().BeOfType<IOException>().Which.Message.Should().NotContain(Secret).And.Contain("[redacted]");
        http.InnerException.Should().BeOfType<HttpRequestException>().Which.Message.Should().NotContain(Secret).And.Contain("[redacted]");
        TokenErrors.Unreachable(Context, clean).InnerException.Should().BeSameAs(clean, "an exception without a secret is kept as it is");
        io.Message.Should().Be("Token client 'crm' could not reach auth.test: IOException: reset after [redacted].");
        http.Message.Should().Be("Token client 'crm' could not reach auth.test: HttpRequestException: bad header [redacted].");
        io.IsTransient.Should().BeTrue();
    }

    [Fact]
    public void Redirected_WithAndWithoutATarget()
    {
        TokenErrors.Redirected(Context, HttpStatusCode.Found, null).Message.Should().Contain("HTTP 302 (Found), a redirect without a usable Location");
        var moved = TokenErrors.Redirected(Context, HttpStatusCode.MovedPermanently, new Uri("https://elsewhere.test:8443/x"));
        moved.Message.Should().Contain("a redirect to elsewhere.test:8443;");
        moved.IsTransient.Should().BeFalse();
    }

    [Fact]
    public void UnreadableIsTransientAndInvalidIsNot()
    {
        TokenErrors.UnreadableResponse(Context, HttpStatusCode.OK, "not JSON").IsTransient.Should().BeTrue();
        TokenErrors.InvalidResponse(Context, HttpStatusCode.OK, "no token").IsTransient.Should().BeFalse();
        TokenErrors.TooLarge(Context, HttpStatusCode.OK, 1024).Message.Should().EndWith("HTTP 200 (OK), the response body is larger than the limit of 1024 bytes.");
    }
}
