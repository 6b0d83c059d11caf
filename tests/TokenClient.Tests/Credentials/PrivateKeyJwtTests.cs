using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Credentials;

/// <summary>private_key_jwt against the fake endpoint: what goes on the wire, retries, redaction, start-up checks, the provider seam.</summary>
public sealed class PrivateKeyJwtTests : IDisposable
{
    private readonly TestKeys _keys = new();
    private readonly RSA _rsa = RSA.Create(2048);

    public void Dispose()
    {
        _rsa.Dispose();
        _keys.Dispose();
    }

    private TestServices Services(Action<TokenClientOptions>? configure = null, Action<IServiceCollection>? more = null, CapturingLoggerProvider? logs = null) =>
        new(
            o =>
            {
                o.ClientSecret = null;
                o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
                o.SigningKey.Key = _rsa;
                configure?.Invoke(o);
            },
            more: more,
            logs: logs);

    private static JsonElement Part(string jwt, int index) =>
        JsonDocument.Parse(Convert.FromBase64String(Pad(jwt.Split('.')[index].Replace('-', '+').Replace('_', '/')))).RootElement;

    private static string Pad(string base64) => base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');

    [Theory]
    [InlineData("Generic")]
    [InlineData("Login3")]
    public async Task TheRequest_CarriesTheClientIdAndAnAssertion_AndNoSecret(string provider)
    {
        await using var services = Services(o =>
        {
            o.Provider = provider;
            o.Audience = "https://api.example.test";
        });

        await services.Client.GetTokenAsync();

        var request = services.TokenEndpoint.Requests.Single();
        var fields = request.Fields.ToDictionary(f => f.Key, f => f.Value);
        fields["client_id"].Should().Be("client-id");
        fields["client_assertion_type"].Should().Be("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        fields.Should().NotContainKey("client_secret");
        request.Header("Authorization").Should().BeNull("no Basic credentials");
        var payload = Part(fields["client_assertion"], 1);
        payload.GetProperty("iss").GetString().Should().Be("client-id");
        payload.GetProperty("sub").GetString().Should().Be("client-id");
        payload.GetProperty("aud").GetString().Should().Be(TestServices.Endpoint.AbsoluteUri);
        var now = services.Time.GetUtcNow().ToUnixTimeSeconds();
        (payload.GetProperty("iat").GetInt64(), payload.GetProperty("nbf").GetInt64(), payload.GetProperty("exp").GetInt64()).Should().Be((now, now, now + 60));
        var header = Part(fields["client_assertion"], 0);
        (header.GetProperty("alg").GetString(), header.GetProperty("typ").GetString()).Should().Be(("RS256", "JWT"));
        header.TryGetProperty("kid", out _).Should().BeFalse("a bare key has no id unless one is given");
        payload.GetProperty("jti").GetString().Should().MatchRegex("^[0-9a-f]{32}$");
    }

    [Fact]
    public async Task EachAttempt_HasAnAssertionOfItsOwn_SoARetryIsNoReplay()
    {
        await using var services = Services(o =>
        {
            o.MaxRetries = 2;
            o.RetryDelay = TimeSpan.Zero;
        });
        services.TokenEndpoint.Respond = n => Task.FromResult(n < 3 ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) : FakeTokenEndpoint.Token("t", 3600));

        await services.Client.GetTokenAsync();

        var jtis = services.TokenEndpoint.Requests.Select(r => Part(r.Fields.Single(f => f.Key == "client_assertion").Value, 1).GetProperty("jti").GetString()).ToList();
        jtis.Should().HaveCount(3).And.OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task AnAssertionEchoedByTheServer_IsInNoMessageAndNoLog()
    {
        var logs = new CapturingLoggerProvider();
        await using var services = Services(logs: logs);
        string? sent = null;
        services.TokenEndpoint.RespondWith = async (_, _) =>
        {
            sent = services.TokenEndpoint.Requests.Last().Fields.Single(f => f.Key == "client_assertion").Value;
            await Task.Yield();
            return FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, $$"""{"error":"invalid_client","error_description":"bad assertion {{sent}}"}""");
        };

        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        sent.Should().NotBeNull();
        var text = thrown + thrown.ErrorDescription + string.Join("\n", logs.Lines.Select(l => l.Text));
        text.Should().NotContain(sent!, "the assertion is a credential until it expires (its signature alone is not)").And.Contain("[redacted]");
    }

    [Fact]
    public async Task AProviderOfTheUsers_SignsEveryAssertion_AndItsFailureIsATransientTokenRequestException()
    {
        var provider = new RecordingProvider();
        await using var services = Services(o => o.SigningKey = new SigningKeyOptions(), more: s => s.AddKeyedSingleton<IClientAssertionProvider>("test", provider));
        services.Provider.GetRequiredService<IStartupValidator>().Validate(); // no key needed: the provider signs

        await services.Client.GetTokenAsync();

        var context = provider.Contexts.Single();
        (context.ClientName, context.ClientId, context.Audience, context.Tenant).Should().Be(("test", "client-id", TestServices.Endpoint.AbsoluteUri, (string?)null));
        services.TokenEndpoint.Requests.Single().Fields.Should().Contain(new KeyValuePair<string, string>("client_assertion", "assertion-1"));

        provider.Fail = true;
        services.Client.Invalidate(await services.Client.GetTokenAsync());
        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.IsTransient.Should().BeTrue();
        thrown.Message.Should().Be("Token client 'test' could not get a client assertion from its IClientAssertionProvider: InvalidOperationException: the vault did not answer.");
        services.TokenEndpoint.RequestCount.Should().Be(1, "no request without an assertion");
    }

    [Fact]
    public async Task AProviderThatReturnsNothing_FailsTheRequest()
    {
        await using var services = Services(o => o.SigningKey = new SigningKeyOptions(), more: s => s.AddKeyedSingleton<IClientAssertionProvider>("test", new EmptyProvider()));

        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.Message.Should().Be("Token client 'test' could not get a client assertion from its IClientAssertionProvider: InvalidOperationException: it returned no assertion.");
        services.TokenEndpoint.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task AProviderThatCancelsOnItsOwn_IsAFailure_NotTheCallersCancellation()
    {
        await using var services = Services(o => o.SigningKey = new SigningKeyOptions(), more: s => s.AddKeyedSingleton<IClientAssertionProvider>("test", new CancellingProvider()));

        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.IsTransient.Should().BeTrue();
        thrown.Message.Should().StartWith("Token client 'test' could not get a client assertion from its IClientAssertionProvider: OperationCanceledException");
    }

    [Theory]
    [InlineData("certificate", null, "ES256")]
    [InlineData("certificate", "chosen-kid", "ES256")]
    [InlineData("pem-with-certificate", null, "RS256")]
    public async Task AKeyWithACertificate_NamesItsThumbprintAsKid_UnlessAKeyIdIsGiven(string source, string? keyId, string algorithm)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = algorithm == "ES256"
            ? new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=ec-client", ec, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1))
            : TestKeys.RsaCertificate();
        await using var services = Services(o =>
        {
            o.SigningKey = new SigningKeyOptions { Algorithm = algorithm, KeyId = keyId };
            if (source == "certificate")
            {
                o.SigningKey.Certificate = certificate;
            }
            else
            {
                o.SigningKey.Path = _keys.Pem(certificate.ExportCertificatePem() + "\n" + certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
            }
        });

        await services.Client.GetTokenAsync();

        var header = Part(services.TokenEndpoint.Requests.Single().Fields.Single(f => f.Key == "client_assertion").Value, 0);
        header.GetProperty("kid").GetString().Should().Be(keyId ?? certificate.Thumbprint);
        header.GetProperty("alg").GetString().Should().Be(algorithm);
        header.GetProperty("x5t").GetString().Should().Be(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(certificate.GetCertHash()));
    }

    [Fact]
    public void StartUp_AKeyGivenInCodeOfTheWrongKind_SaysSo()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
        {
            o.TokenEndpoint = new Uri("https://auth.test/token");
            o.ClientId = "id";
            o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
            o.SigningKey.Key = ec;
        });
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(
            "Token client 'api': SigningKey (the key given in code) is not an RSA key, which RS256 needs (ES256 takes an EC key).");
    }

    private sealed class EmptyProvider : IClientAssertionProvider
    {
        public ValueTask<string> CreateAssertionAsync(ClientAssertionContext context, CancellationToken cancellationToken) => ValueTask.FromResult(" ");
    }

    private sealed class CancellingProvider : IClientAssertionProvider
    {
        public ValueTask<string> CreateAssertionAsync(ClientAssertionContext context, CancellationToken cancellationToken) => throw new OperationCanceledException("the vault's own timeout");
    }

    [Fact]
    public void UseClientAssertionProvider_RegistersTheProviderForThatClient()
    {
        var services = new ServiceCollection();
        var provider = new RecordingProvider();
        services.AddTokenClient("vaulted", o =>
        {
            o.TokenEndpoint = new Uri("https://auth.test/token");
            o.ClientId = "id";
            o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
        }).UseClientAssertionProvider(_ => provider);
        using var container = services.BuildServiceProvider();

        container.GetRequiredService<IStartupValidator>().Validate();
        container.GetRequiredKeyedService<IClientAssertionProvider>("vaulted").Should().BeSameAs(provider);
    }

    [Theory]
    [InlineData(null, null, "SigningKey:Path (or a key or certificate given in code) is required when ClientAuthentication is 'PrivateKeyJwt', unless an IClientAssertionProvider is registered for the client.")]
    [InlineData("missing.pem", null, "SigningKey:Path '{folder}/missing.pem' does not exist.")]
    [InlineData("rsa", "HS256", "SigningKey:Algorithm 'HS256' is not supported; use RS256, PS256 or ES256.")]
    [InlineData("rsa", "ES256", "SigningKey:Path '{path}' holds no EC private key that ES256 can use (is SigningKey:Password right?).")]
    [InlineData("ec", "RS256", "SigningKey:Path '{path}' holds no RSA private key that RS256 can use (is SigningKey:Password right?).")]
    [InlineData("rsa1024", "PS256", "SigningKey (SigningKey:Path '{path}') is an RSA key of 1024 bits; PS256 needs 2048 bits or more.")]
    [InlineData("ec384", "ES256", "SigningKey (SigningKey:Path '{path}') is not an EC P-256 key, which ES256 needs.")]
    [InlineData("garbage", "RS256", "SigningKey:Path '{path}' holds no RSA private key that RS256 can use (is SigningKey:Password right?).")]
    public void StartUp_ABadSigningKey_IsReportedNamingTheKey(string? file, string? algorithm, string expected)
    {
        var path = file switch
        {
            null => null,
            "missing.pem" => Path.Combine(_keys.Folder, "missing.pem"),
            "rsa" => _keys.Pem(_rsa.ExportPkcs8PrivateKeyPem()),
            "rsa1024" => _keys.Pem(RSA.Create(1024).ExportRSAPrivateKeyPem()),
            "ec" => _keys.Pem(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportECPrivateKeyPem()),
            "ec384" => _keys.Pem(ECDsa.Create(ECCurve.NamedCurves.nistP384).ExportPkcs8PrivateKeyPem()),
            _ => _keys.Pem("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"),
        };
        var settings = new Dictionary<string, string?>
        {
            ["TokenEndpoint"] = "https://auth.test/token",
            ["ClientId"] = "id",
            ["ClientAuthentication"] = "PrivateKeyJwt",
            ["SigningKey:Path"] = path,
            ["SigningKey:Algorithm"] = algorithm,
        };
        var services = new ServiceCollection();
        services.AddTokenClient("api", new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(
            "Token client 'api': " + expected.Replace("{folder}", _keys.Folder).Replace("{path}", path));
    }

    [Theory]
    [InlineData("LoneWolf")]
    [InlineData("Wll")]
    [InlineData("Apimw")]
    [InlineData("Wokelo")]
    public void StartUp_PrivateKeyJwtWithAProviderThatTakesASecret_IsRefused(string provider)
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
        {
            o.Provider = provider;
            o.ClientId = "id";
            o.Username = "u";
            o.Password = "p";
            o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
            o.SigningKey.Key = _rsa;
        });
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Contain(
            $"Token client 'api': ClientAuthentication 'PrivateKeyJwt' is not supported when Provider is '{provider}': its token endpoint takes a client secret.");
    }

    [Fact]
    public void Configuration_AnUnknownSigningKeySetting_IsNamed()
    {
        var settings = new Dictionary<string, string?>
        {
            ["TokenEndpoint"] = "https://auth.test/token",
            ["ClientId"] = "id",
            ["ClientSecret"] = "s",
            ["SigningKey:Pth"] = "key.pem",
        };
        var services = new ServiceCollection();
        services.AddTokenClient("api", new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(
            "Token client 'api': configuration 'SigningKey:Pth' is not a SigningKey setting; the settings are SigningKey:Path, SigningKey:Password, SigningKey:KeyId, SigningKey:Algorithm.");
    }

    [Fact]
    public void SigningKeyOptions_ToString_NeverShowsThePassword()
    {
        var options = new SigningKeyOptions { Path = "/keys/client.pfx", Password = "pfx-password-123" };

        options.ToString().Should().Be("RS256 key from '/keys/client.pfx'").And.NotContain("pfx-password-123");
    }

    private sealed class RecordingProvider : IClientAssertionProvider
    {
        public List<ClientAssertionContext> Contexts { get; } = [];

        public bool Fail { get; set; }

        public ValueTask<string> CreateAssertionAsync(ClientAssertionContext context, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new InvalidOperationException("the vault did not answer");
            }

            Contexts.Add(context);
            return ValueTask.FromResult($"assertion-{Contexts.Count}");
        }
    }
}
