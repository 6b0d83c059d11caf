using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RichardSzalay.MockHttp;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Faults;

/// <summary>
/// Every case of <see cref="FaultCases"/>: a typed <see cref="TokenRequestException"/> with the right
/// status, error and transience after the right number of requests, or a token that a retry got.
/// Time is fake and driven in steps, so retries, Retry-After and timeouts play out without waiting.
/// </summary>
[Collection(nameof(DrivenTimeCollection))]
public class FaultMatrixTests
{
    [Fact]
    public void Matrix_HasAtLeastFortyCases() => FaultCases.All.Count.Should().BeGreaterThanOrEqualTo(40);

    [Theory]
    [MemberData(nameof(FaultCases.Names), MemberType = typeof(FaultCases))]
    public async Task GetTokenAsync_Fault_ThrowsTypedOrRecovers(string name)
    {
        var fault = FaultCases.Get(name);
        using var run = new FaultRun(fault);

        var (token, failure) = await run.GetTokenAsync();

        if (fault.Expect.RequestsAtLeast)
        {
            run.Services.TokenEndpoint.RequestCount.Should().BeGreaterThanOrEqualTo(fault.Expect.Requests);
        }
        else
        {
            run.Services.TokenEndpoint.RequestCount.Should().Be(fault.Expect.Requests);
        }

        if (fault.Expect.Recovers)
        {
            failure.Should().BeNull();
            token!.ExpiresAt.Should().BeAfter(run.Services.Time.GetUtcNow());
            return;
        }

        token.Should().BeNull();
        failure.Should().NotBeNull();
        failure!.StatusCode.Should().Be(fault.Expect.Status);
        failure.Error.Should().Be(fault.Expect.Error);
        failure.IsTransient.Should().Be(fault.Expect.Transient);
        failure.ClientName.Should().Be(TestServices.ClientName);
        failure.Message.Should().Contain($"'{TestServices.ClientName}'").And.Contain("auth.test");
        if (fault.Expect.Status is { } status)
        {
            failure.Message.Should().Contain($"HTTP {(int)status}");
        }

        if (fault.Expect.MessagePart is { } part)
        {
            failure.Message.Should().Contain(part);
        }
    }

    [Theory]
    [MemberData(nameof(FaultCases.Names), MemberType = typeof(FaultCases))]
    public async Task Handler_TokenExpiredAndEndpointFaulty_NeverSendsAnExpiredTokenOrNone(string name)
    {
        var fault = FaultCases.Get(name);
        var api = new MockHttpMessageHandler();
        var apiCalls = new List<string?>();
        api.Fallback.Respond(request =>
        {
            apiCalls.Add(request.Headers.Authorization?.Parameter);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var run = new FaultRun(fault, services => services.AddHttpClient("api").AddTokenHandler(TestServices.ClientName).ConfigurePrimaryHttpMessageHandler(() => api));
        var http = run.Services.Provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        run.Services.TokenEndpoint.Respond = _ => Task.FromResult(fault.Provider == "Apimw"
            ? FakeTokenEndpoint.Json(HttpStatusCode.OK, """{"success":true,"data":{"access_token":"first-token","token_type":"Bearer","expires_in":100}}""")
            : FakeTokenEndpoint.Token("first-token", 100));
        using (await http.GetAsync("https://api.test/"))
        {
        }

        // Past the first token's expiry, the endpoint misbehaves.
        run.Services.Time.Advance(TimeSpan.FromSeconds(101));
        run.Services.TokenEndpoint.RespondWith = fault.Respond;
        var call = http.GetAsync("https://api.test/");
        await run.DriveAsync(call);

        var sentAfterExpiry = apiCalls.Skip(1).ToList();
        if (call.IsCompletedSuccessfully)
        {
            fault.Expect.Recovers.Should().BeTrue("only a recovered token may reach the API");
            sentAfterExpiry.Should().ContainSingle().Which.Should().NotBeNullOrEmpty().And.NotBe("first-token");
            (await call).Dispose();
        }
        else
        {
            fault.Expect.Recovers.Should().BeFalse();
            await call.Invoking(c => c).Should().ThrowAsync<TokenRequestException>();
            sentAfterExpiry.Should().BeEmpty("no request goes out without a valid token");
        }

        if (!fault.Expect.Recovers)
        {
            var again = run.Services.Client.GetTokenAsync().AsTask();
            await run.DriveAsync(again);
            await again.Invoking(t => t).Should().ThrowAsync<TokenRequestException>("the cache never returns a token past its expiry");
        }
    }

    [Fact]
    public async Task AllFaultCases_LogsAndExceptionMessages_NeverContainASecretOrAToken()
    {
        var logs = new CapturingLoggerProvider();
        var texts = new List<string>();
        foreach (var fault in FaultCases.All)
        {
            using var run = new FaultRun(fault, services => services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs)));
            var (token, failure) = await run.GetTokenAsync();
            texts.Add(failure?.ToString() ?? token!.ToString());
        }

        texts.AddRange(logs.Lines.Select(l => l.Text));
        logs.Lines.Count.Should().BeGreaterThan(FaultCases.All.Count, "every case logs");
        foreach (var secret in FaultRun.Secrets)
        {
            texts.Should().NotContain(t => t.Contains(secret, StringComparison.Ordinal), $"'{secret[..6]}…' must never be written");
        }
    }

    /// <summary>One fault case in its own container, with the clock driven until the acquisition ends.</summary>
    private sealed class FaultRun : IDisposable
    {
        public static readonly string[] Secrets =
        [
            FaultCases.Secret,
            FaultCases.LeakyToken,
            FaultCases.Password,
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"client-id:{FaultCases.Secret}")),
        ];

        public FaultRun(FaultCase fault, Action<IServiceCollection>? more = null)
        {
            Services = new TestServices(
                o =>
                {
                    o.Provider = fault.Provider;
                    o.ClientSecret = FaultCases.Secret;
                    o.MaxRetries = FaultCases.Retries;
                    o.RetryDelay = TimeSpan.FromMilliseconds(10);
                    fault.Configure?.Invoke(o);
                },
                more);
            Services.TokenEndpoint.RespondWith = fault.Respond;
        }

        public TestServices Services { get; }

        public async Task<(AccessToken? Token, TokenRequestException? Failure)> GetTokenAsync()
        {
            var task = Services.Client.GetTokenAsync().AsTask();
            await DriveAsync(task);
            try
            {
                return (await task, null);
            }
            catch (TokenRequestException ex)
            {
                return (null, ex);
            }
        }

        // Advances fake time a second at a time until the work ends (bounded: a stuck case fails, it does not hang).
        public Task DriveAsync(Task work) => Services.Time.DriveAsync(work, TimeSpan.FromSeconds(1), maxSteps: 600);

        public void Dispose() => Services.Dispose();
    }
}
