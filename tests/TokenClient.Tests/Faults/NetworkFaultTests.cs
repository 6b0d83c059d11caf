using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
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
        thrown.Message.Should().Be($"Token client 'net' could not reach 127.0.0.1: HttpRequestException: Connection refused (127.0.0.1:{port}).");
        thrown.InnerException.Should().BeOfType<HttpRequestException>();
    }

    [Fact]
    public async Task GetTokenAsync_NameThatDoesNotResolve_SaysSo()
    {
        // The resolver's answer for a .invalid name (RFC 6761), given by the connection itself: no query leaves the machine.
        var thrown = await FailureAgainst(
            new Uri("https://auth.invalid/token"),
            () => new SocketsHttpHandler { ConnectCallback = (_, _) => throw new SocketException((int)SocketError.HostNotFound) });

        thrown.Message.Should().StartWith("Token client 'net' could not reach auth.invalid: HttpRequestException: ")
            .And.Contain("(auth.invalid:443)").And.EndWith(".").And.NotEndWith("..");
        thrown.InnerException.Should().BeOfType<HttpRequestException>().Which.InnerException.Should().BeOfType<SocketException>()
            .Which.SocketErrorCode.Should().Be(SocketError.HostNotFound);
    }

    [Fact]
    public async Task GetTokenAsync_ServerWithAnUntrustedCertificate_SaysTheCertificateIsTheCause()
    {
        using var certificate = SelfSigned();
        var builder = Loopback.CreateBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificate)));
        await using var app = builder.Build();
        app.MapPost("/token", () => Results.Json(new { access_token = "never-sent", token_type = "Bearer", expires_in = 3600 }));
        await app.StartAsync();
        var port = new Uri(app.Urls.Single()).Port;
        var logs = new CapturingLoggerProvider();

        var thrown = await FailureAgainst(new Uri($"https://127.0.0.1:{port}/token"), logs: logs);

        thrown.Message.Should().StartWith("Token client 'net' could not reach 127.0.0.1: HttpRequestException: The SSL connection could not be established: ")
            .And.Contain("certificate").And.NotContain("see inner exception");
        logs.Lines.Should().ContainSingle(l => l.Id.Name == "TokenRequestFailed").Which.Text.Should()
            .Contain("TokenClient.TokenRequestException").And.Contain("System.Security.Authentication.AuthenticationException", "the log carries the exception and its causes");
    }

    [Fact]
    public async Task AServerDescriptionEndingWithAPeriod_EndsTheMessageWithOne()
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"Client authentication failed."}"""));

        var act = async () => await services.Client.GetTokenAsync();

        (await act.Should().ThrowAsync<TokenRequestException>()).Which.Message.Should()
            .Be("Token client 'test' could not get a token from auth.test: HTTP 401 (Unauthorized), error 'invalid_client': Client authentication failed.");
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 SelfSigned()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));
        return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(created.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), password: null);
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

    private static async Task<TokenRequestException> FailureAgainst(Uri endpoint, Func<HttpMessageHandler>? primary = null, CapturingLoggerProvider? logs = null)
    {
        await using var services = new TestServices(
            name: "net",
            time: TimeProvider.System,
            endpoint: endpoint,
            more: primary is null ? null : s => s.AddHttpClient("TokenClient.net").ConfigurePrimaryHttpMessageHandler(primary),
            logs: logs);
        var act = async () => await services.Client.GetTokenAsync();
        return (await act.Should().ThrowAsync<TokenRequestException>()).Which;
    }
}
