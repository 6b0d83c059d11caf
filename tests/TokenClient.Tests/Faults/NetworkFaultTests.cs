using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Faults;

/// <summary>Transport faults over real sockets on 127.0.0.1: a refused connection and a connection reset mid-body.</summary>
public class NetworkFaultTests
{
    [Fact]
    public async Task GetTokenAsync_ConnectionRefused_ThrowsTransientUnreachable()
    {
        // A port that was just free: nothing listens on it any more.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var thrown = await FailureAgainst(new Uri($"http://127.0.0.1:{port}/token"));

        thrown.StatusCode.Should().BeNull();
        thrown.IsTransient.Should().BeTrue();
        thrown.Message.Should().Contain("could not reach 127.0.0.1");
        thrown.InnerException.Should().BeOfType<HttpRequestException>();
    }

    [Fact]
    public async Task GetTokenAsync_ConnectionResetMidBody_ThrowsTransientUnreachable()
    {
        await using var app = Loopback.CreateBuilder().Build();
        app.MapPost("/token", async (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = 4096;
            await context.Response.WriteAsync("""{"access_token":"cut-off-token","expires""");
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
        var address = await Loopback.StartAsync(app);

        var thrown = await FailureAgainst(new Uri(address, "/token"));

        thrown.StatusCode.Should().BeNull();
        thrown.IsTransient.Should().BeTrue();
        thrown.Message.Should().Contain("could not reach 127.0.0.1").And.NotContain("cut-off-token");
    }

    private static async Task<TokenRequestException> FailureAgainst(Uri endpoint)
    {
        await using var services = new TestServices(name: "net", time: TimeProvider.System, endpoint: endpoint);
        var act = async () => await services.Client.GetTokenAsync();
        return (await act.Should().ThrowAsync<TokenRequestException>()).Which;
    }
}
