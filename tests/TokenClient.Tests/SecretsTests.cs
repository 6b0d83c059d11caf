using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests;

public class SecretsTests
{
    private const string Secret = "s3cr3t-client-secret";
    private const string IssuedToken = "issued-access-token-value";

    [Fact]
    public async Task LogsAndExceptions_AcrossSuccessRenewalAndFailures_NeverContainSecretOrToken()
    {
        var logs = new CapturingLoggerProvider();
        using var services = new TestServices(
            o => o.ClientSecret = Secret,
            s => s.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs)));
        var responses = new Queue<HttpResponseMessage>(
        [
            FakeTokenEndpoint.Token(IssuedToken, 100),
            FakeTokenEndpoint.Json(HttpStatusCode.InternalServerError, $$"""{"access_token":"{{IssuedToken}}"}"""),
            FakeTokenEndpoint.Json(HttpStatusCode.OK, $$"""{"access_token":"{{IssuedToken}}","token_type":"mac"}"""),
            FakeTokenEndpoint.Json(HttpStatusCode.OK, $$"""{"access_token":"{{IssuedToken}}","expires_in":"""),
            FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}"""),
        ]);
        services.TokenEndpoint.Respond = _ => Task.FromResult(responses.Dequeue());
        var client = services.Client;
        var messages = new List<string>();

        var token = await client.GetTokenAsync();
        services.Time.Advance(TimeSpan.FromSeconds(95));
        await client.GetTokenAsync(); // starts a background renewal that fails
        await client.RenewalSettledAsync();
        logs.Lines.Should().Contain(l => l.Text.Contains("could not renew", StringComparison.Ordinal), "the background renewal failed");
        services.Time.Advance(TimeSpan.FromSeconds(10)); // past expiry
        for (var i = 0; i < 3; i++)
        {
            try
            {
                await client.GetTokenAsync();
            }
            catch (TokenRequestException ex)
            {
                messages.Add(ex.ToString());
            }
        }

        messages.Should().HaveCount(3);
        logs.Lines.Should().NotBeEmpty();
        var everything = string.Join("\n", messages.Concat(logs.Lines.Select(l => l.Text)).Append(token.ToString()));
        everything.Should().NotContain(Secret).And.NotContain(IssuedToken)
            .And.NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"client-id:{Secret}")));
        logs.Lines.Select(l => l.Id.Id).Should().Contain([1, 2, 3, 4, 5]);
    }

    [Fact]
    public void ToStringAndDebuggerDisplay_OfEveryTypeHoldingASecret_ShowNone()
    {
        var options = new TokenClientOptions { ClientId = "id", ClientSecret = Secret, Password = "pw-secret", Username = "u" };
        var token = new AccessToken(IssuedToken, "Bearer", DateTimeOffset.UnixEpoch);
        var issued = new TokenClient.Caching.IssuedToken(token, DateTimeOffset.UnixEpoch, 0, "refresh-secret");

        var shown = string.Join("\n", options.ToString(), token.ToString(), issued.ToString());

        shown.Should().NotContain(Secret).And.NotContain("pw-secret").And.NotContain(IssuedToken).And.NotContain("refresh-secret");
        issued.ToString().Should().Be($"{token}, received 1970-01-01T00:00:00.0000000+00:00");
        foreach (var (type, members) in new[]
        {
            (typeof(TokenClientOptions), new[] { nameof(TokenClientOptions.ClientSecret), nameof(TokenClientOptions.Password) }),
            (typeof(AccessToken), new[] { nameof(AccessToken.Value) }),
        })
        {
            type.GetCustomAttributes(typeof(System.Diagnostics.DebuggerDisplayAttribute), false).Should().ContainSingle();
            foreach (var member in members)
            {
                var browsable = (System.Diagnostics.DebuggerBrowsableAttribute?)Attribute.GetCustomAttribute(type.GetProperty(member)!, typeof(System.Diagnostics.DebuggerBrowsableAttribute));
                browsable.Should().NotBeNull($"{type.Name}.{member} is a secret");
                browsable!.State.Should().Be(System.Diagnostics.DebuggerBrowsableState.Never, $"{type.Name}.{member} is a secret");
            }
        }
    }
}
