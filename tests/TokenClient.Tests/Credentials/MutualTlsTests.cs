using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Credentials;

/// <summary>
/// Mutual TLS (RFC 8705) against Kestrel on 127.0.0.1 requiring a client certificate: the token endpoint authenticates the
/// client by its certificate and client_id alone, and the API checks the token is bound to the same certificate.
/// </summary>
public sealed class MutualTlsTests : IDisposable
{
    private readonly TestKeys _keys = new();
    private readonly X509Certificate2 _server = ServerCertificate();
    private readonly X509Certificate2 _client = TestKeys.RsaCertificate();

    public void Dispose()
    {
        _server.Dispose();
        _client.Dispose();
        _keys.Dispose();
    }

    private static X509Certificate2 ServerCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }

    // Token endpoint and API in one server that requires a client certificate and accepts only the test client's.
    private async Task<WebApplication> ServerAsync()
    {
        var builder = Loopback.CreateBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = _server,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (certificate, _, _) => certificate.Thumbprint == _client.Thumbprint,
        })));
        var app = builder.Build();
        app.MapPost("/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            var certificate = context.Connection.ClientCertificate;
            return form["client_id"] == "tls-client" && !form.ContainsKey("client_secret") && context.Request.Headers.Authorization.Count == 0 && certificate is not null
                ? Results.Json(new { access_token = "bound-to-" + certificate.Thumbprint, token_type = "Bearer", expires_in = 3600 })
                : Results.Json(new { error = "invalid_client" }, statusCode: 401);
        });
        app.MapGet("/api", (HttpContext context) =>
            context.Request.Headers.Authorization.ToString() == "Bearer bound-to-" + context.Connection.ClientCertificate?.Thumbprint
                ? Results.Text("bound token accepted")
                : Results.StatusCode(401));
        await app.StartAsync();
        return app;
    }

    // The test's server certificate is self-signed: the clients trust it by its thumbprint, and no other.
    private SocketsHttpHandler TrustingTheServer() => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _server.Thumbprint },
    };

    [Fact]
    public async Task AClientCertificateFromAPfx_InAppSettings_GetsATokenBoundToIt_AndTheApiSeesTheSameCertificate()
    {
        await using var app = await ServerAsync();
        var address = new Uri(app.Urls.Single());
        var settings = new Dictionary<string, string?>
        {
            ["TokenClients:tls:TokenEndpoint"] = new Uri(address, "/token").AbsoluteUri,
            ["TokenClients:tls:ClientId"] = "tls-client",
            ["TokenClients:tls:ClientAuthentication"] = "Tls",
            ["TokenClients:tls:ClientCertificate:Path"] = _keys.Pfx(_client, "pfx pw"),
            ["TokenClients:tls:ClientCertificate:Password"] = "pfx pw",
        };
        var services = new ServiceCollection();
        services.AddTokenClients(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("TokenClients"));
        services.AddHttpClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("tls")).ConfigurePrimaryHttpMessageHandler(TrustingTheServer);
        services.AddHttpClient("api", c => c.BaseAddress = address).ConfigurePrimaryHttpMessageHandler(TrustingTheServer).AddTokenHandler("tls");
        await using var container = services.BuildServiceProvider();
        container.GetRequiredService<IStartupValidator>().Validate();

        var answer = await container.GetRequiredService<IHttpClientFactory>().CreateClient("api").GetStringAsync("/api");

        answer.Should().Be("bound token accepted");
        (await container.GetRequiredKeyedService<ITokenClient>("tls").GetTokenAsync()).Value.Should().Be("bound-to-" + _client.Thumbprint);
    }

    [Fact]
    public async Task ACertificateGivenInCode_AsAPemFileWithItsKey_IsPresentedToo()
    {
        await using var app = await ServerAsync();
        var address = new Uri(app.Urls.Single());
        var pem = _keys.Pem(_client.ExportCertificatePem() + "\n" + _client.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await using var fromPem = Client(address, o => o.ClientCertificate.Path = pem);
        await using var inCode = Client(address, o => o.ClientCertificate.Certificate = _client);

        (await fromPem.Client.GetTokenAsync()).Value.Should().Be("bound-to-" + _client.Thumbprint);
        (await inCode.Client.GetTokenAsync()).Value.Should().Be("bound-to-" + _client.Thumbprint);
    }

    [Fact]
    public async Task WithoutTheCertificate_TheHandshakeFails_AndTheMessageSaysSo()
    {
        await using var app = await ServerAsync();
        await using var services = Client(new Uri(app.Urls.Single()), o =>
        {
            o.ClientAuthentication = ClientAuthentication.Body;
            o.ClientSecret = "a secret is no certificate";
        });

        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.IsTransient.Should().BeTrue();
        thrown.Message.Should().StartWith("Token client 'test' could not reach 127.0.0.1:");
    }

    private TestServices Client(Uri address, Action<TokenClientOptions> configure) =>
        new(
            o =>
            {
                o.ClientId = "tls-client";
                o.ClientSecret = null;
                o.ClientAuthentication = ClientAuthentication.Tls;
                configure(o);
            },
            more: s => s.AddHttpClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("test")).ConfigurePrimaryHttpMessageHandler(TrustingTheServer),
            endpoint: new Uri(address, "/token"),
            time: TimeProvider.System);

    [Theory]
    [InlineData(null, "ClientCertificate:Path (or a certificate given in code) is required when ClientAuthentication is 'Tls'.")]
    [InlineData("missing.pfx", "ClientCertificate:Path '{folder}/missing.pfx' does not exist.")]
    [InlineData("no-key", "ClientCertificate:Path '{path}' could not be read as a certificate with its private key (is ClientCertificate:Password right?): *")]
    [InlineData("in-code-no-key", "ClientCertificate (the certificate given in code) has no private key: mutual TLS needs the certificate with its key.")]
    [InlineData("wrong-password", "ClientCertificate:Path '{path}' could not be read as a certificate with its private key (is ClientCertificate:Password right?): *")]
    public void StartUp_ACertificateThatCannotBeUsed_IsReportedNamingTheSetting(string? file, string expected)
    {
        var path = file switch
        {
            null => null,
            "missing.pfx" => Path.Combine(_keys.Folder, "missing.pfx"),
            "no-key" => _keys.Pem(_client.ExportCertificatePem()),
            "in-code-no-key" => null,
            _ => _keys.Pfx(_client, "right"),
        };
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
        {
            o.TokenEndpoint = new Uri("https://auth.test/token");
            o.ClientId = "id";
            o.ClientAuthentication = ClientAuthentication.Tls;
            o.ClientCertificate.Path = path;
            o.ClientCertificate.Password = file == "wrong-password" ? "wrong" : null;
            o.ClientCertificate.Certificate = file == "in-code-no-key" ? X509CertificateLoader.LoadCertificate(_client.Export(X509ContentType.Cert)) : null;
        });
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle().Which.Should()
            .Match("Token client 'api': " + expected.Replace("{folder}", _keys.Folder).Replace("{path}", path));
    }

    [Fact]
    public void AnHttpClientHandler_IsGivenTheCertificate_AndAHandlerOfAnotherKindIsRefusedSayingWhy()
    {
        var given = new HttpClientHandler();
        var services = new ServiceCollection();
        services.AddTokenClient("a", Tls).ConfigureTokenEndpointHttpClient(h => h.ConfigurePrimaryHttpMessageHandler(() => given));
        services.AddTokenClient("b", Tls).ConfigureTokenEndpointHttpClient(h => h.ConfigurePrimaryHttpMessageHandler(() => new Opaque()));
        using var container = services.BuildServiceProvider();
        var factory = container.GetRequiredService<IHttpClientFactory>();

        factory.CreateClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("a"));
        var opaque = () => factory.CreateClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("b"));

        given.ClientCertificateOptions.Should().Be(ClientCertificateOption.Manual);
        given.ClientCertificates.Cast<X509Certificate>().Should().ContainSingle().Which.Should().BeSameAs(_client);
        opaque.Should().Throw<NotSupportedException>().WithMessage("The HttpClient 'TokenClient.b' has a primary handler (Opaque) that TokenClient cannot give a client certificate; use SocketsHttpHandler or HttpClientHandler, or add the certificate to it yourself.");

        void Tls(TokenClientOptions o)
        {
            o.TokenEndpoint = new Uri("https://auth.test/token");
            o.ClientId = "id";
            o.ClientAuthentication = ClientAuthentication.Tls;
            o.ClientCertificate.Certificate = _client;
        }
    }

    private sealed class Opaque : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    [Fact]
    public void AHandlerSharedByTwoClientsWithCertificates_IsRefused_SoNoCertificateReachesTheOthersServers()
    {
        using var other = TestKeys.RsaCertificate();
        using var shared = new SocketsHttpHandler();
        var services = new ServiceCollection();
        foreach (var (name, certificate) in new[] { ("a", _client), ("b", other) })
        {
            services.AddTokenClient(name, o =>
                {
                    o.TokenEndpoint = new Uri("https://auth.test/token");
                    o.ClientId = "id";
                    o.ClientAuthentication = ClientAuthentication.Tls;
                    o.ClientCertificate.Certificate = certificate;
                })
                .ConfigureTokenEndpointHttpClient(h => h.ConfigurePrimaryHttpMessageHandler(() => shared));
        }

        using var container = services.BuildServiceProvider();
        var factory = container.GetRequiredService<IHttpClientFactory>();
        factory.CreateClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("a"));

        var act = () => factory.CreateClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("b"));

        act.Should().Throw<InvalidOperationException>().WithMessage("*a primary handler that another client certificate was given to*");
        shared.SslOptions.ClientCertificates!.Cast<X509Certificate>().Should().ContainSingle().Which.Should().BeSameAs(_client);
    }

    [Fact]
    public void StartUp_TlsWithAProviderThatTakesASecret_IsRefused()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
        {
            o.Provider = "Apimw";
            o.ClientId = "id";
            o.ClientAuthentication = ClientAuthentication.Tls;
            o.ClientCertificate.Certificate = _client;
        });
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Contain(
            "Token client 'api': ClientAuthentication 'Tls' is not supported when Provider is 'Apimw': its token endpoint takes a client secret.");
    }

    [Fact]
    public void Tls_OnAProviderThatTakesASecret_WithoutACertificate_IsOneProblem_NotAlsoAMissingCertificate()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o => (o.Provider, o.ClientId, o.ClientAuthentication) = ("Apimw", "id", ClientAuthentication.Tls));
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(
            "Token client 'api': ClientAuthentication 'Tls' is not supported when Provider is 'Apimw': its token endpoint takes a client secret.");
    }
}
