using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.MapPost("/token", async (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = 4096;
            await context.Response.WriteAsync("""{"access_token":"cut-off-token","expires""");
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        var thrown = await FailureAgainst(new Uri(new Uri(address), "/token"));

        thrown.StatusCode.Should().BeNull();
        thrown.IsTransient.Should().BeTrue();
        thrown.Message.Should().Contain("could not reach 127.0.0.1").And.NotContain("cut-off-token");
    }

    private static async Task<TokenRequestException> FailureAgainst(Uri endpoint)
    {
        var services = new ServiceCollection();
        services.AddTokenClient("net", o =>
        {
            o.TokenEndpoint = endpoint;
            o.ClientId = "id";
            o.ClientSecret = "secret";
            o.MaxRetries = 0;
        });
        await using var provider = services.BuildServiceProvider();
        var act = async () => await provider.GetRequiredKeyedService<ITokenClient>("net").GetTokenAsync();
        return (await act.Should().ThrowAsync<TokenRequestException>()).Which;
    }
}
