using System.Net;

namespace TokenClient.Tests.TestSupport;

/// <summary>Checks shared by the provider tests.</summary>
internal static class ProviderAssertions
{
    /// <summary>A container with one client of the given provider, on the provider's own default endpoint.</summary>
    public static TestServices ForProvider(string provider, Action<TokenClientOptions>? configure = null) =>
        new(o =>
        {
            o.Provider = provider;
            o.TokenEndpoint = null;
            configure?.Invoke(o);
        });

    /// <summary>The only request made: method, URL, content type, the fields in order, and no header but Accept.</summary>
    public static RecordedRequest ShouldBeTheOnlyRequest(
        this FakeTokenEndpoint endpoint, string url, string contentType, params (string Name, string Value)[] fields)
    {
        var request = endpoint.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Post);
        request.Uri.Should().Be(new Uri(url));
        request.ContentType.Should().StartWith(contentType);
        request.Headers.Keys.Should().Equal(["Accept"], "no credentials or anything else travel in headers");
        request.Header("Accept").Should().Be("application/json");
        request.Fields.Should().Equal(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        return request;
    }

    /// <summary>Answers every request with this status and body, and returns what GetTokenAsync throws.</summary>
    public static async Task<TokenRequestException> FailureFor(this TestServices services, HttpStatusCode status, string body)
    {
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(status, body));
        var act = async () => await services.Client.GetTokenAsync();
        return (await act.Should().ThrowAsync<TokenRequestException>()).Which;
    }

    /// <summary>Answers with this body and returns the token it gives.</summary>
    public static async Task<AccessToken> TokenFor(this TestServices services, string body)
    {
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, body));
        return await services.Client.GetTokenAsync();
    }

    public static void ShouldBe(this TokenRequestException thrown, HttpStatusCode status, string? error, string? description, bool transient)
    {
        thrown.StatusCode.Should().Be(status);
        thrown.Error.Should().Be(error);
        thrown.ErrorDescription.Should().Be(description);
        thrown.IsTransient.Should().Be(transient);
        thrown.ClientName.Should().Be(TestServices.ClientName);
    }
}
