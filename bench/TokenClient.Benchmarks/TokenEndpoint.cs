using System.Net;
using System.Text;

namespace TokenClient.Benchmarks;

/// <summary>A token endpoint that answers at once with a token valid for a day: the benchmarks measure the hit path.</summary>
internal sealed class TokenEndpoint : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("""{"access_token":"token","token_type":"Bearer","expires_in":86400}""", Encoding.UTF8, "application/json"),
        });
}
