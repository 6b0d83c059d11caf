using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TokenClient.Http;
using TokenClient.Tests.Attacks;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Credentials;

/// <summary>DPoP (RFC 9449) with <c>Dpop: true</c>, against a server on 127.0.0.1 that verifies every proof.</summary>
public sealed class DpopTests
{
    private const string Secret = "dpop-s3cret-Kw4";

    private static ServiceProvider Container(DpopServer server, CapturingLoggerProvider? logs = null, params (string Key, string Value)[] more) =>
        Container(server, logs, api: null, more);

    private static ServiceProvider Container(DpopServer server, CapturingLoggerProvider? logs, Action<IHttpClientBuilder>? api, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["TokenClients:bound:TokenEndpoint"] = server.TokenEndpoint.AbsoluteUri,
            ["TokenClients:bound:ClientId"] = "dpop-client",
            ["TokenClients:bound:ClientSecret"] = Secret,
            ["TokenClients:bound:Dpop"] = "true",
            ["TokenClients:bound:MaxRetries"] = "0",
        };
        foreach (var (key, value) in more)
        {
            settings[$"TokenClients:bound:{key}"] = value;
        }

        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs ?? new CapturingLoggerProvider()));
        services.AddTokenClients(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("TokenClients"));
        var builder = services.AddHttpClient("api", c => c.BaseAddress = server.Server.Address).AddTokenHandler("bound");
        api?.Invoke(builder);
        var container = services.BuildServiceProvider();
        container.GetRequiredService<IStartupValidator>().Validate();
        return container;
    }

    private static HttpClient Api(ServiceProvider container) => container.GetRequiredService<IHttpClientFactory>().CreateClient("api");

    [Fact]
    public async Task FromConfiguration_EveryTokenAndApiRequestCarriesAProofTheServerVerifies_WithOneNonceRoundOnEachSide()
    {
        await using var server = await DpopServer.StartAsync();
        await using var container = Container(server);
        var api = Api(container);

        using var first = await api.GetAsync("/api/orders");
        using var second = await api.PostAsync("/api/orders/7?expand=lines#top", new StringContent("{}"));

        server.Refused.Should().BeEmpty();
        (await first.Content.ReadAsStringAsync()).Should().Be("accepted GET /api/orders");
        (await second.Content.ReadAsStringAsync()).Should().Be("accepted POST /api/orders/7");
        server.Server.Requests.Select(r => $"{r.Method} {r.PathAndQuery}").Should().Equal(
            "POST /token", // refused: use_dpop_nonce
            "POST /token", // with the authorization server's nonce
            "GET /api/orders", // refused: use_dpop_nonce
            "GET /api/orders", // with the resource server's nonce
            "POST /api/orders/7?expand=lines"); // the nonce kept: no round this time
        server.Server.Requests.Where(r => r.PathAndQuery.StartsWith("/api", StringComparison.Ordinal))
            .Should().OnlyContain(r => r.Header("Authorization") == "DPoP dpop-token-1");

        var accepted = server.Accepted.ToList();
        accepted.Select(a => a.Path).Should().Equal("/token", "/api/orders", "/api/orders/7");
        accepted[0].Proof.GetPayloadValue<string>("nonce").Should().Be(server.TokenNonce);
        accepted.Skip(1).Should().OnlyContain(a => a.Proof.GetPayloadValue<string>("nonce") == server.ApiNonce);
        accepted.Select(a => DpopServer.Thumbprint(a.Proof)).Distinct().Should().ContainSingle("one key signs the client's proofs");
        server.TokenNonce.Should().NotBe(server.ApiNonce);
    }

    [Fact]
    public async Task ANewKeyIsMadeForEachClient_AndTheSameKeyIsKeptForOneClient()
    {
        await using var server = await DpopServer.StartAsync();
        server.TokenEndpointNonces = server.ApiNonces = false;
        await using var one = Container(server);
        await using var other = Container(server);

        (await Api(one).GetAsync("/api/a")).EnsureSuccessStatusCode();
        (await Api(one).GetAsync("/api/b")).EnsureSuccessStatusCode();
        (await Api(other).GetAsync("/api/c")).EnsureSuccessStatusCode();

        var keys = server.Accepted.Select(a => (a.Path, Key: DpopServer.Thumbprint(a.Proof))).ToList();
        keys.Select(k => k.Path).Should().Equal("/token", "/api/a", "/api/b", "/token", "/api/c");
        keys.Take(3).Select(k => k.Key).Distinct().Should().ContainSingle();
        keys[3].Key.Should().NotBe(keys[0].Key).And.Be(keys[4].Key);
    }

    [Fact]
    public async Task AServerThatKeepsAskingForANewNonce_IsAskedOnceMore_ThenTheFailureIsReported()
    {
        await using var server = await DpopServer.StartAsync();
        server.NewNonceEveryTime = true;
        await using var container = Container(server);

        var failure = await container.GetRequiredKeyedService<ITokenClient>("bound").Invoking(c => c.GetTokenAsync().AsTask())
            .Should().ThrowAsync<TokenRequestException>();

        failure.Which.Error.Should().Be("use_dpop_nonce");
        server.Server.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task AnApiThatKeepsAskingForANewNonce_IsAskedOnceMore_ThenItsAnswerIsReturned_AndTheTokenKept()
    {
        await using var server = await DpopServer.StartAsync();
        server.TokenEndpointNonces = false;
        await using var container = Container(server);
        server.NewNonceEveryTime = true; // the token endpoint asks for no nonce here: only the API does

        using var response = await Api(container).GetAsync("/api/orders");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("use_dpop_nonce");
        server.Server.Requests.Select(r => $"{r.Method} {r.PathAndQuery}").Should().Equal("POST /token", "GET /api/orders", "GET /api/orders");
    }

    [Fact]
    public async Task AnApiThatAsksForTheNonceTheProofCarried_GetsItsAnswerReturned_WithoutAResend()
    {
        await using var server = await DpopServer.StartAsync();
        server.TokenEndpointNonces = false;
        server.ForcedNonce = "fixed-nonce";
        await using var container = Container(server);
        (await Api(container).GetAsync("/api/first")).EnsureSuccessStatusCode(); // one round: the client now holds fixed-nonce

        server.NewNonceEveryTime = true;
        using var response = await Api(container).GetAsync("/api/second");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        server.Server.Requests.Select(r => r.PathAndQuery).Should().Equal("/token", "/api/first", "/api/first", "/api/second");
    }

    [Fact]
    public async Task ConcurrentRequestsGivenTheSameNonce_EachGoAgainWithIt_OnBothSides()
    {
        await using var server = await DpopServer.StartAsync();
        server.ForcedNonce = "one-nonce-for-all";
        await using var container = Container(server);
        var factory = container.GetRequiredService<ITokenClientFactory>();

        var tokens = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => factory.GetClient("bound", $"tenant-{i}").GetTokenAsync().AsTask())));
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => Api(container).GetAsync($"/api/orders/{i}"))));

        tokens.Should().OnlyContain(t => t.TokenType == "DPoP");
        answers.Should().OnlyContain(a => a.StatusCode == HttpStatusCode.OK, "a request whose proof carried no nonce goes again with the one given, whoever kept it first");
        server.Refused.Should().BeEmpty();
    }

    [Fact]
    public async Task AnApiThatAnswersAtOnce_AskingForANonce_IsAnsweredWithIt()
    {
        var api = new InMemoryApi(request => NonceIn(request.Headers.GetValues("DPoP").Single()) == "rs-1"
            ? new HttpResponseMessage(HttpStatusCode.OK)
            : NonceDemand("rs-1"));
        await using var services = InMemory(api, n => $$"""{"access_token":"bound-{{n}}","token_type":"DPoP","expires_in":3600}""");

        using var response = await services.Http("api").GetAsync("https://api.test/orders");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        api.Received.Should().HaveCount(2);
        services.TokenEndpoint.RequestCount.Should().Be(1, "a nonce demand is not a rejection of the token");
    }

    [Fact]
    public async Task ARejectedDpopToken_RenewedAsBearer_IsResentWithoutTheOldProof()
    {
        var api = new InMemoryApi(request => request.Headers.Authorization!.Scheme == "DPoP"
            ? new HttpResponseMessage(HttpStatusCode.Unauthorized)
            : new HttpResponseMessage(HttpStatusCode.OK));
        await using var services = InMemory(api, n => $$"""{"access_token":"t-{{n}}","token_type":"{{(n == 1 ? "DPoP" : "Bearer")}}","expires_in":3600}""");

        using var response = await services.Http("api").GetAsync("https://api.test/orders");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        api.Received.Select(r => r.Authorization).Should().Equal("DPoP t-1", "Bearer t-2");
        api.Received.Select(r => r.Proof is not null).Should().Equal(true, false);
    }

    [Fact]
    public async Task ANonceGivenWithAnAnswer_IsInTheNextProof_AndACallersOwnProofIsReplaced()
    {
        var answers = 0;
        var api = new InMemoryApi(_ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK);
            response.Headers.TryAddWithoutValidation("DPoP-Nonce", $"fresh-{++answers}");
            return response;
        });
        await using var services = InMemory(api, n => $$"""{"access_token":"bound-{{n}}","token_type":"DPoP","expires_in":3600}""");
        var http = services.Http("api");
        await services.Client.GetTokenAsync(); // cached: the requests take the handler's path for an answer given at once

        (await http.GetAsync("https://api.test/orders")).EnsureSuccessStatusCode();
        using var withOwnProof = new HttpRequestMessage(HttpMethod.Get, "https://api.test/orders");
        withOwnProof.Headers.TryAddWithoutValidation("DPoP", "the-callers-own");
        (await http.SendAsync(withOwnProof)).EnsureSuccessStatusCode();

        api.Received.Select(r => r.Proof is null ? "none" : NonceIn(r.Proof) ?? "no nonce").Should().Equal("no nonce", "fresh-1");
    }

    [Fact]
    public async Task ANonceDemandAnsweringABearerToken_IsARejection_TheTokenRenewedAndTheRequestResent()
    {
        var api = new InMemoryApi(request => request.Headers.Authorization!.Parameter == "t-1" ? NonceDemand("rs-1") : new HttpResponseMessage(HttpStatusCode.OK));
        await using var services = InMemory(api, n => $$"""{"access_token":"t-{{n}}","token_type":"Bearer","expires_in":3600}""");

        using var response = await services.Http("api").GetAsync("https://api.test/orders");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        api.Received.Select(r => r.Authorization).Should().Equal("Bearer t-1", "Bearer t-2");
    }

    [Fact]
    public async Task TheNonceDemand_AnsweredByAResend_IsDisposed()
    {
        var demands = new List<TrackedContent>();
        var api = new InMemoryApi(request =>
        {
            if (NonceIn(request.Headers.GetValues("DPoP").Single()) == "rs-1")
            {
                return new HttpResponseMessage(HttpStatusCode.OK);
            }

            var demand = NonceDemand("rs-1");
            demand.Content = new TrackedContent();
            demands.Add((TrackedContent)demand.Content);
            return demand;
        });
        await using var services = InMemory(api, n => $$"""{"access_token":"bound-{{n}}","token_type":"DPoP","expires_in":3600}""");

        (await services.Http("api").GetAsync("https://api.test/orders")).EnsureSuccessStatusCode();

        demands.Should().ContainSingle().Which.Disposed.Should().BeTrue();
    }

    [Fact]
    public async Task AClientWithoutDpop_NeverWarnsThatItsTokenIsNotBound()
    {
        var logs = new CapturingLoggerProvider();
        await using var services = new TestServices(o => o.MaxRetries = 0, logs: logs);

        (await services.Client.GetTokenAsync()).TokenType.Should().Be("Bearer");

        logs.Lines.Should().Contain(l => l.Id.Name == "TokenAcquired").And.NotContain(l => l.Id.Name == "DpopNotBound");
    }

    [Fact]
    public async Task TurningDpopOnByAReload_DropsTheBearerTokensHeld()
    {
        var configuration = TestServices.Settings();
        await using var services = new TestServices(o => o.MaxRetries = 0, configuration: configuration);
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK,
            $$"""{"access_token":"t-{{n}}","token_type":"{{(n == 1 ? "Bearer" : "DPoP")}}","expires_in":3600}"""));
        (await services.Client.GetTokenAsync()).TokenType.Should().Be("Bearer");

        configuration["Dpop"] = "true";
        configuration.Reload();

        var after = await services.Client.GetTokenAsync();
        after.TokenType.Should().Be("DPoP");
        after.Value.Should().Be("t-2");
    }

    [Fact]
    public async Task ANonceThatIsNotOne_IsIgnored_AndNotSentBack()
    {
        await using var server = await DpopServer.StartAsync();
        server.ForcedNonce = "quote\"and\\backslash"; // NQCHAR excludes both
        await using var container = Container(server);

        var failure = await container.GetRequiredKeyedService<ITokenClient>("bound").Invoking(c => c.GetTokenAsync().AsTask())
            .Should().ThrowAsync<TokenRequestException>();

        failure.Which.Error.Should().Be("use_dpop_nonce");
        server.Server.Requests.Should().ContainSingle("a nonce that cannot be one is no reason to ask again");
    }

    [Fact]
    public async Task AServerThatIssuesABearerToken_IsAnsweredInKind_WithoutProofsOnTheApi()
    {
        await using var server = await DpopServer.StartAsync();
        server.TokenEndpointNonces = false;
        server.IssuedType = "Bearer";
        var logs = new CapturingLoggerProvider();
        await using var container = Container(server, logs);

        using var response = await Api(container).GetAsync("/api/orders");

        (await response.Content.ReadAsStringAsync()).Should().Be("bearer accepted");
        server.Server.Requests.Last().Header("Authorization").Should().Be("Bearer dpop-token-1");
        server.Server.Requests.Last().Header("DPoP").Should().BeNull();
        server.Server.Requests.First().Header("DPoP").Should().NotBeNull("the token request carried its proof all the same");
        logs.Lines.Should().ContainSingle(l => l.Id.Name == "DpopNotBound").Which.Level.Should().Be(LogLevel.Warning);
    }

    [Fact]
    public async Task ARedirectToAnotherOrigin_GoesWithoutTheTokenAndWithoutAProof()
    {
        await using var server = await DpopServer.StartAsync();
        server.TokenEndpointNonces = server.ApiNonces = false;
        await using var elsewhere = await Hostile.StartAsync(app => app.MapGet("/landing", (HttpContext context) =>
        {
            context.Response.Headers["DPoP-Nonce"] = "from-elsewhere";
            return Results.Text("landed");
        }));
        server.RedirectTo = elsewhere.Url("/landing");
        await using var container = Container(server);

        using var response = await Api(container).GetAsync("/api/moved");

        (await response.Content.ReadAsStringAsync()).Should().Be("landed");
        server.Server.Requests.Last().Header("DPoP").Should().NotBeNull();
        var landed = elsewhere.Requests.Should().ContainSingle().Which;
        landed.Header("Authorization").Should().BeNull();
        landed.Header("DPoP").Should().BeNull();
        (await Api(container).GetAsync("/api/orders")).EnsureSuccessStatusCode();
        NonceIn(server.Server.Requests.Last().Header("DPoP")!).Should().BeNull("a nonce from where a redirect led is not the API's");
    }

    [Fact]
    public async Task AProofTheServerEchoes_NeverAppearsInTheExceptionOrTheLogs()
    {
        await using var server = await DpopServer.StartAsync();
        server.EchoProofInError = true;
        var logs = new CapturingLoggerProvider();
        await using var container = Container(server, logs);

        var failure = await container.GetRequiredKeyedService<ITokenClient>("bound").Invoking(c => c.GetTokenAsync().AsTask())
            .Should().ThrowAsync<TokenRequestException>();

        var proof = server.Server.Requests.Single().Header("DPoP")!;
        var leaks = (string? text) => text is not null && proof.Split('.').Any(part => text.Contains(part[..Math.Min(part.Length, 40)], StringComparison.Ordinal));
        failure.Which.ErrorDescription.Should().StartWith("rejected proof");
        leaks(failure.Which.ErrorDescription).Should().BeFalse();
        leaks(failure.Which.ToString()).Should().BeFalse();
        logs.Lines.Should().NotBeEmpty().And.OnlyContain(l => !leaks(l.Text));
    }

    [Fact]
    public async Task WithPrivateKeyJwt_TheProofAndTheAssertionTheServerEchoes_AreBothKeptOutOfTheException()
    {
        await using var server = await DpopServer.StartAsync();
        server.EchoProofInError = true;
        using var keys = new TestKeys();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var container = Container(server, logs: null,
            ("ClientAuthentication", "PrivateKeyJwt"), ("SigningKey:Path", keys.Pem(key.ExportPkcs8PrivateKeyPem())), ("SigningKey:Algorithm", "ES256"));

        var failure = await container.GetRequiredKeyedService<ITokenClient>("bound").Invoking(c => c.GetTokenAsync().AsTask())
            .Should().ThrowAsync<TokenRequestException>();

        var request = server.Server.Requests.Single();
        var assertion = Uri.UnescapeDataString(request.Body.Split('&').Single(f => f.StartsWith("client_assertion=", StringComparison.Ordinal))["client_assertion=".Length..]);
        var proof = request.Header("DPoP")!;
        failure.Which.ErrorDescription.Should().Be("rejected proof [redacted] sent with [redacted]");
        assertion.Should().Contain(".").And.NotBe(proof);
    }

    [Fact]
    public async Task ProofsAndTokens_NeverAppearInTheLogs_OfASuccessfulRound()
    {
        await using var server = await DpopServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        await using var container = Container(server, logs);

        (await Api(container).GetAsync("/api/orders")).EnsureSuccessStatusCode();

        var proofs = server.Server.Requests.Select(r => r.Header("DPoP")!.Split('.')[2]).ToList();
        proofs.Should().HaveCount(4);
        logs.Lines.Should().Contain(l => l.Text.Contains("asked for a DPoP nonce", StringComparison.Ordinal));
        logs.Lines.Should().OnlyContain(l => !proofs.Any(p => l.Text.Contains(p, StringComparison.Ordinal)) && !l.Text.Contains("dpop-token-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheHttpClientFactorysOwnHeaderLog_RedactsTheToken_TheProof_AndTheConfiguredHeaders_WhateverTheUserChose()
    {
        await using var server = await DpopServer.StartAsync();
        server.TokenEndpointNonces = server.ApiNonces = false;
        var logs = new CapturingLoggerProvider();
        await using var container = Container(server, logs, api => api.RedactLoggedHeaders(_ => false), ("Headers:X-Api-Key", "api-key-Vb3"));

        (await Api(container).GetAsync("/api/orders")).EnsureSuccessStatusCode();

        var request = server.Server.Requests.Last();
        request.Header("X-Api-Key").Should().Be("api-key-Vb3");
        var headerLogs = logs.Lines.Where(l => l.Text.StartsWith("Request Headers:", StringComparison.Ordinal)).Select(l => l.Text).ToList();
        headerLogs.Should().ContainSingle(l => l.Contains("Authorization: *") && l.Contains("DPoP: *") && l.Contains("X-Api-Key: *"),
            "the client handler's log, below the token handler, sees the headers (the logical handler's, above it, does not)");
        headerLogs.Should().OnlyContain(l => !l.Contains("dpop-token-1") && !l.Contains("api-key-Vb3") && !l.Contains(request.Header("DPoP")!.Split('.')[2]));
    }

    [Fact]
    public async Task ADpopToken_FromAClientWithoutDpop_IsRefused_NamingTheSetting()
    {
        await using var services = new TestServices(o => o.MaxRetries = 0);
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, """{"access_token":"bound","token_type":"DPoP","expires_in":3600}"""));

        var failure = await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();

        failure.Which.Message.Should().Contain("token_type 'DPoP' is not supported").And.Contain("Dpop set to true");
    }

    [Fact]
    public async Task WithDpop_ATokenTypeThatIsNeitherBearerNorDpop_IsRefused()
    {
        await using var services = new TestServices(o => (o.MaxRetries, o.Dpop) = (0, true));
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, """{"access_token":"t","token_type":"mac","expires_in":3600}"""));

        var failure = await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();

        failure.Which.Message.Should().Contain("token_type 'mac' is not supported: only Bearer and DPoP tokens are");
    }

    [Theory]
    [InlineData("LoneWolf", false, "Dpop is not supported when Provider is 'LoneWolf'")]
    [InlineData("Generic", true, "Dpop and SharedCache cannot both be on")]
    public void AClientThatCannotUseDpop_FailsAtStartUp_NamingDpop(string provider, bool sharedCache, string expected)
    {
        var services = new ServiceCollection();
        services.AddDistributedMemoryCache();
        services.AddTokenClient("bound", o =>
        {
            o.Provider = provider;
            o.TokenEndpoint = new Uri("https://login.example.test/token");
            (o.ClientId, o.ClientSecret, o.Dpop, o.SharedCache, o.AllowInsecureSharedCache) = ("id", Secret, true, sharedCache, true);
        });
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain($"Token client 'bound': {expected}");
    }

    [Fact]
    public void TheNonces_AreKeptByOriginAndSide_CheckedForTheirCharacters_AndForgottenPastSixtyFour()
    {
        var proofs = new DpopProofs(TimeProvider.System);
        var api = new Uri("https://api.example.test/orders?page=1");

        proofs.Keep(api, atTokenEndpoint: false, "n-1").Should().Be("n-1");
        NonceIn(proofs.Create(HttpMethod.Get, new Uri("https://api.example.test/other"), "t", out var sent)).Should().Be("n-1", "the origin's nonce");
        sent.Should().Be("n-1");
        NonceIn(proofs.Create(HttpMethod.Post, new Uri("https://api.example.test/token"), null, out sent)).Should().BeNull("the token endpoint's nonce is its own, on the same origin too");
        sent.Should().BeNull();
        proofs.Keep(api, atTokenEndpoint: true, "as-1").Should().Be("as-1");
        NonceIn(proofs.Create(HttpMethod.Post, api, null, out _)).Should().Be("as-1");
        NonceIn(proofs.Create(HttpMethod.Get, api, "t", out _)).Should().Be("n-1");
        foreach (var notANonce in new[] { null, "", "with space", "quote\"", "back\\slash", "é", new string('a', 513) })
        {
            proofs.Keep(api, atTokenEndpoint: false, notANonce).Should().BeNull();
        }

        proofs.Keep(api, atTokenEndpoint: false, new string('a', 512)).Should().HaveLength(512);
        NonceIn(proofs.Create(HttpMethod.Get, api, "t", out _)).Should().HaveLength(512);
        NonceIn(proofs.Create(HttpMethod.Get, new Uri("http://api.example.test/orders"), "t", out _)).Should().BeNull("http is another origin");

        for (var i = 0; i < 62; i++)
        {
            proofs.Keep(new Uri($"https://host-{i}.example.test/"), atTokenEndpoint: false, "n");
        }

        NonceIn(proofs.Create(HttpMethod.Get, api, "t", out _)).Should().NotBeNull("64 are kept");
        proofs.Keep(new Uri("https://one-too-many.example.test/"), atTokenEndpoint: false, "n");
        NonceIn(proofs.Create(HttpMethod.Get, api, "t", out _)).Should().BeNull("past 64 the nonces are forgotten");
        NonceIn(proofs.Create(HttpMethod.Get, new Uri("https://one-too-many.example.test/x"), "t", out _)).Should().Be("n");
    }

    [Theory]
    [InlineData("DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"", true)]
    [InlineData("DPoP error=use_dpop_nonce", true)]
    [InlineData("dpop algs=\"ES256\", ERROR=\"use_dpop_nonce\"", true)]
    [InlineData("DPoP error=\"invalid_token\", error_description=\"we do not use_dpop_nonce here\"", false)]
    [InlineData("Bearer error=\"use_dpop_nonce\"", false)]
    [InlineData("DPoP error=\"use_dpop_nonce_not\"", false)]
    [InlineData("DPoP", false)]
    public void ANonceDemand_IsADpopChallengeWhoseErrorIsUseDpopNonce_NotAnyTextThatMentionsIt(string challenge, bool demand)
    {
        using var forbidden = new HttpResponseMessage(HttpStatusCode.Forbidden);
        forbidden.Headers.TryAddWithoutValidation("WWW-Authenticate", challenge);
        DpopProofs.AsksForNonce(forbidden).Should().BeFalse("only a 401 asks for a nonce");
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        response.Headers.TryAddWithoutValidation("WWW-Authenticate", challenge);

        DpopProofs.AsksForNonce(response).Should().Be(demand);
    }

    [Fact]
    public void ANonceHeader_IsTakenOnlyWhenThereIsExactlyOne()
    {
        using var one = new HttpResponseMessage();
        one.Headers.TryAddWithoutValidation("DPoP-Nonce", "n-1");
        using var two = new HttpResponseMessage();
        two.Headers.TryAddWithoutValidation("DPoP-Nonce", ["n-1", "n-2"]);

        DpopProofs.NonceOf(one.Headers).Should().Be("n-1");
        DpopProofs.NonceOf(two.Headers).Should().BeNull("two nonces at once are no nonce to choose from");
        DpopProofs.NonceOf(new HttpResponseMessage().Headers).Should().BeNull();
    }

    [Fact]
    public void Htu_HasTheHostAsItGoesOnTheWire_AndNoQueryFragmentOrUserInfo()
    {
        var proofs = new DpopProofs(TimeProvider.System);

        HtuIn(proofs.Create(HttpMethod.Get, new Uri("https://user:pw@bücher.example:8443/a/./b/../c?x=1#top"), "t", out _)).Should().Be("https://xn--bcher-kva.example:8443/a/c");
        HtuIn(proofs.Create(HttpMethod.Get, new Uri("https://API.Example.TEST:443/%7Eorders"), "t", out _)).Should().Be("https://api.example.test/~orders");
        HtuIn(proofs.Create(HttpMethod.Get, new Uri("http://[::1]:5000/x"), "t", out _)).Should().Be("http://[::1]:5000/x");
    }

    private static string? HtuIn(string proof) => new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(proof).GetPayloadValue<string>("htu");

    [Fact]
    public void AProofIsWrittenAsRfc9449sExamplesAre_ItsPublicKeyOnly_AndNoEscapesJsonDoesNotNeed()
    {
        var proof = new DpopProofs(TimeProvider.System).Create(HttpMethod.Post, new Uri("https://api.example.test/a&b?query=1#top"), accessToken: null, out _);

        var parts = proof.Split('.');
        var header = System.Text.Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(parts[0]));
        var payload = System.Text.Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(parts[1]));
        header.Should().MatchRegex("""^\{"typ":"dpop\+jwt","alg":"ES256","jwk":\{"kty":"EC","crv":"P-256","x":"[A-Za-z0-9_-]{43}","y":"[A-Za-z0-9_-]{43}"\}\}$""");
        payload.Should().MatchRegex("""^\{"jti":"[0-9a-f]{32}","htm":"POST","htu":"https://api.example.test/a&b","iat":[0-9]+\}$""");
    }

    private static HttpResponseMessage NonceDemand(string nonce)
    {
        var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        response.Headers.TryAddWithoutValidation("WWW-Authenticate", "DPoP error=\"use_dpop_nonce\"");
        response.Headers.TryAddWithoutValidation("DPoP-Nonce", nonce);
        return response;
    }

    // A client with Dpop whose token endpoint answers with tokenJson(n), and an "api" HttpClient whose API answers in memory.
    private static TestServices InMemory(InMemoryApi api, Func<int, string> tokenJson)
    {
        var services = new TestServices(o => (o.Dpop, o.MaxRetries) = (true, 0), more: s => s.AddHttpClient("api").AddTokenHandler(TestServices.ClientName).ConfigurePrimaryHttpMessageHandler(() => api));
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, tokenJson(n)));
        return services;
    }

    private sealed class TrackedContent : StringContent
    {
        public TrackedContent()
            : base("{}")
        {
        }

        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    /// <summary>An API that answers synchronously, as a caching or test handler does, recording what it got.</summary>
    private sealed class InMemoryApi(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<(string Authorization, string? Proof)> Received { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Received.Add((request.Headers.Authorization!.ToString(), request.Headers.TryGetValues("DPoP", out var proofs) ? proofs.Single() : null));
            return Task.FromResult(answer(request));
        }
    }

    private static string? NonceIn(string proof) =>
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(proof).TryGetPayloadValue<string>("nonce", out var nonce) ? nonce : null;
}
