using System.Net;
using System.Text;
using TokenClient.Http;

namespace TokenClient.Tests.Http;

/// <summary>Where the handler sends a request when it follows a redirect itself: as .NET's own handler does.</summary>
public class RedirectsTests
{
    [Theory]
    [InlineData(301, "POST", "GET", false)]
    [InlineData(302, "POST", "GET", false)]
    [InlineData(301, "PUT", "PUT", true)]
    [InlineData(303, "PUT", "GET", false)]
    [InlineData(303, "HEAD", "HEAD", true)]
    [InlineData(307, "POST", "POST", true)]
    [InlineData(308, "DELETE", "DELETE", true)]
    [InlineData(300, "POST", "POST", true)]
    public void TryFollow_Status_SetsMethodAndContentAsRfc9110Says(int status, string method, string expectedMethod, bool keepsContent)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "https://api.test/a/b") { Content = new StringContent("x") };
        using var response = Redirect(status, "../c?d=1");

        Redirects.TryFollow(request, response).Should().BeTrue();

        request.RequestUri.Should().Be(new Uri("https://api.test/c?d=1"));
        request.Method.Method.Should().Be(expectedMethod);
        (request.Content is not null).Should().Be(keepsContent);
    }

    [Theory]
    [InlineData("https://api.test/", "http://api.test/", "never down from https to http")]
    [InlineData("https://api.test/", "ftp://api.test/", "only http and https")]
    [InlineData("http://127.0.0.1/", "file:///etc/passwd", "only http and https")]
    public void TryFollow_ForbiddenTarget_IsNotFollowed(string from, string to, string because)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, from);
        using var response = Redirect(302, to);

        Redirects.TryFollow(request, response).Should().BeFalse(because);
        request.RequestUri.Should().Be(new Uri(from));
    }

    [Fact]
    public void TryFollow_307WithAStreamedBody_IsNotFollowed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://api.test/") { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("once"))) };
        using var response = Redirect(307, "/again");

        Redirects.TryFollow(request, response).Should().BeFalse("the body could not be sent again");
    }

    [Theory]
    [InlineData(200)]
    [InlineData(304)]
    [InlineData(305)]
    public void TryFollow_NotARedirect_IsNotFollowed(int status)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.test/");
        using var response = Redirect(status, "/elsewhere");

        Redirects.TryFollow(request, response).Should().BeFalse();
    }

    [Fact]
    public void TryFollow_LocationThatCannotBeResolved_IsNotFollowed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.test/");
        using var response = new HttpResponseMessage(HttpStatusCode.Found);
        response.Headers.Location = new Uri("//api.test:99999/x", UriKind.Relative);
        Uri.TryCreate(request.RequestUri, response.Headers.Location, out _).Should().BeFalse("a port out of range resolves to nothing");

        Redirects.TryFollow(request, response).Should().BeFalse();
        request.RequestUri.Should().Be(new Uri("https://api.test/"));
    }

    [Fact]
    public void TurnOff_TheSameHandlerTwice_ReportsItsOriginalLimitBothTimes()
    {
        using var handler = new SocketsHttpHandler { MaxAutomaticRedirections = 7 };
        using var wrapped = new PassThrough(handler);

        Redirects.TurnOff(wrapped).Should().Be(7);
        handler.AllowAutoRedirect.Should().BeFalse();
        Redirects.TurnOff(handler).Should().Be(7, "a handler handed out on every build keeps the limit it had");
    }

    [Fact]
    public void TurnOff_HandlerThatDoesNotFollowRedirects_OrOfAnotherKind_ReportsNone()
    {
        using var off = new HttpClientHandler { AllowAutoRedirect = false };
        using var other = new PassThrough(null);

        Redirects.TurnOff(off).Should().BeNull();
        Redirects.TurnOff(other).Should().BeNull();
    }


    [Fact]
    public void TryFollow_NoLocation_IsNotFollowed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.test/");
        using var response = new HttpResponseMessage(HttpStatusCode.Found);

        Redirects.TryFollow(request, response).Should().BeFalse();
    }

    [Fact]
    public void TryFollow_TargetWithoutFragment_KeepsTheOriginalFragment()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.test/a#part");
        using var response = Redirect(302, "https://api.test/b");

        Redirects.TryFollow(request, response).Should().BeTrue();
        request.RequestUri!.ToString().Should().Be("https://api.test/b#part");
    }

    [Fact]
    public void TryFollow_TargetWithAFragmentOfItsOwn_KeepsIt()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.test/a#part");
        using var response = Redirect(302, "https://api.test/b#own");

        Redirects.TryFollow(request, response).Should().BeTrue();
        request.RequestUri!.ToString().Should().Be("https://api.test/b#own");
    }

    [Fact]
    public void TryFollow_NeitherHasAFragment_AddsNone()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.test/a");
        using var response = Redirect(302, "https://api.test/b");

        Redirects.TryFollow(request, response).Should().BeTrue();
        request.RequestUri!.ToString().Should().Be("https://api.test/b");
    }

    private static HttpResponseMessage Redirect(int status, string location)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status);
        response.Headers.Location = new Uri(location, UriKind.RelativeOrAbsolute);
        return response;
    }

    private sealed class PassThrough : DelegatingHandler
    {
        public PassThrough(HttpMessageHandler? inner)
        {
            if (inner is not null)
            {
                InnerHandler = inner;
            }
        }
    }
}
