using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using TokenClient.Tests.Conformance;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Credentials;

/// <summary>
/// private_key_jwt (RFC 7523 section 2.2) against OpenIddict on 127.0.0.1, each assertion checked by Microsoft.IdentityModel:
/// an RSA certificate (RS256, PS256), an EC key (ES256), a key given in code; a replayed and an expired assertion refused.
/// </summary>
public sealed class PrivateKeyJwtConformanceTests : IDisposable
{
    private readonly TestKeys _keys = new();

    public void Dispose() => _keys.Dispose();

    [Theory]
    [InlineData("RS256")]
    [InlineData("PS256")]
    public async Task ARsaCertificateFromAPfx_ConfiguredInAppSettings_IsAccepted(string algorithm)
    {
        using var certificate = TestKeys.RsaCertificate();
        var pfx = _keys.Pfx(certificate, "pfx password");
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5), new X509SecurityKey(certificate));
        await using var services = FromConfiguration(server, ("SigningKey:Path", pfx), ("SigningKey:Password", "pfx password"), ("SigningKey:Algorithm", algorithm));

        var token = await services.Client.GetTokenAsync();

        token.Value.Should().NotBeNullOrEmpty();
        var accepted = server.AssertionsAccepted.Should().ContainSingle().Subject;
        accepted.Alg.Should().Be(algorithm);
        accepted.Kid.Should().Be(certificate.Thumbprint, "the certificate's thumbprint is the default kid");
        accepted.X5t.Should().Be(Base64UrlEncoder.Encode(certificate.GetCertHash()));
        accepted.Issuer.Should().Be(OpenIddictServer.ClientId);
        accepted.Audiences.Should().Equal(server.TokenEndpoint.AbsoluteUri);
        (accepted.ValidTo - accepted.IssuedAt).Should().Be(TimeSpan.FromSeconds(60));
        server.GrantsServed.Should().Equal("client_credentials");
    }

    [Fact]
    public async Task AnEcKeyFromAPem_WithES256_IsAccepted()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = _keys.Pem(ec.ExportPkcs8PrivateKeyPem());
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5), new ECDsaSecurityKey(ec));
        await using var services = FromConfiguration(server, ("SigningKey:Path", pem), ("SigningKey:Algorithm", "ES256"), ("SigningKey:KeyId", "ec-key-1"));

        await services.Client.GetTokenAsync();

        var accepted = server.AssertionsAccepted.Should().ContainSingle().Subject;
        (accepted.Alg, accepted.Kid).Should().Be(("ES256", "ec-key-1"));
        accepted.TryGetHeaderValue<string>("x5t", out _).Should().BeFalse("a bare key has no certificate");
    }

    [Fact]
    public async Task AnEncryptedPemKeyGivenByPath_AndAKeyGivenInCode_AreAccepted()
    {
        using var rsa = RSA.Create(2048);
        var pem = _keys.Pem(rsa.ExportEncryptedPkcs8PrivateKeyPem("pem password", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1000)));
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5), new RsaSecurityKey(rsa));
        await using var fromFile = FromConfiguration(server, ("SigningKey:Path", pem), ("SigningKey:Password", "pem password"));
        await using var inCode = InCode(server, key => key.Key = rsa);

        await fromFile.Client.GetTokenAsync();
        await inCode.Client.GetTokenAsync();

        server.AssertionsAccepted.Should().HaveCount(2);
        server.AssertionsAccepted.Select(a => a.Id).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task AReplayedAssertion_IsRefusedWithInvalidClient()
    {
        using var certificate = TestKeys.RsaCertificate();
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5), new X509SecurityKey(certificate));
        await using var services = InCode(server, key => key.Certificate = certificate);
        await services.Client.GetTokenAsync();
        var used = server.AssertionsReceived.Single();

        using var http = new HttpClient();
        using var replay = await http.PostAsync(server.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = OpenIddictServer.ClientId,
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = used,
        }));

        replay.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await replay.Content.ReadAsStringAsync()).Should().Contain("invalid_client").And.Contain("used before");
        server.GrantsServed.Should().HaveCount(1);
    }

    [Fact]
    public async Task AnExpiredAssertion_IsRefusedWithInvalidClient_AndItsTextIsNowhere()
    {
        using var certificate = TestKeys.RsaCertificate();
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5), new X509SecurityKey(certificate));
        var logs = new CapturingLoggerProvider();
        var late = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-10)); // the client's clock: its assertions expired long ago
        await using var services = InCode(server, key => key.Certificate = certificate, late, logs);

        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.Error.Should().Be("invalid_client");
        thrown.Message.Should().Contain("SecurityTokenExpiredException");
        var assertion = server.AssertionsReceived.Single();
        var text = thrown.ToString() + string.Join("\n", logs.Lines.Select(l => l.Text));
        text.Should().NotContain(assertion);
    }

    private ServiceProviderWrapper FromConfiguration(OpenIddictServer server, params (string Key, string Value)[] signingKey)
    {
        var settings = new Dictionary<string, string?>
        {
            ["TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri,
            ["ClientId"] = OpenIddictServer.ClientId,
            ["ClientAuthentication"] = "PrivateKeyJwt",
        };
        foreach (var (key, value) in signingKey)
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceProviderWrapper(new TestServices(configuration: configuration, endpoint: server.TokenEndpoint, time: TimeProvider.System));
    }

    // A client whose signing key is given in code (a key or a certificate), as its own test sets it.
    private static ServiceProviderWrapper InCode(OpenIddictServer server, Action<SigningKeyOptions> key, TimeProvider? time = null, CapturingLoggerProvider? logs = null) =>
        new(new TestServices(
            o =>
            {
                o.ClientId = OpenIddictServer.ClientId;
                o.ClientSecret = null;
                o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
                key(o.SigningKey);
            },
            endpoint: server.TokenEndpoint,
            time: time ?? TimeProvider.System,
            logs: logs));

    /// <summary>A container whose one client is "test", started as the host would (start-up validation first).</summary>
    private sealed class ServiceProviderWrapper : IAsyncDisposable
    {
        private readonly TestServices _services;

        public ServiceProviderWrapper(TestServices services)
        {
            _services = services;
            services.Provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        }

        public ITokenClient Client => _services.Client;

        public ValueTask DisposeAsync() => _services.DisposeAsync();
    }
}
