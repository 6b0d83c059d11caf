using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>A client's definition: its options resolved once, when it is built, into the settings its requests are made from.</summary>
public class ClientDefinitionTests
{
    [Fact]
    public async Task OptionsChangedInPlace_AfterTheClientWasBuilt_ChangeNoRequest_UntilTheConfigurationChanges()
    {
        using var services = new TestServices(o =>
        {
            o.Scope = "orders";
            o.Parameters["region"] = "eu";
            o.MaxResponseSize = 4096;
        });
        await services.Client.GetTokenAsync();

        // Code that writes into the options object the monitor handed out: no validation saw these values.
        var options = services.Provider.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get(TestServices.ClientName);
        options.ClientSecret = "written-in-place";
        options.Scope = "everything";
        options.Parameters["region"] = "us";
        options.MaxResponseSize = 10;
        services.Time.Advance(TimeSpan.FromHours(2));
        var token = await services.Client.GetTokenAsync();

        token.Value.Should().Be("token-2", "the answer is read within the limit resolved when the client was built, not the 10 bytes written later");
        var requests = services.TokenEndpoint.Requests.ToArray();
        requests.Should().HaveCount(2);
        requests[1].Fields.Should().Equal(requests[0].Fields, "the second request says what the first said");
        requests[1].Fields.Should().Contain(new KeyValuePair<string, string>("scope", "orders")).And.Contain(new KeyValuePair<string, string>("region", "eu"));
        requests[1].Headers["Authorization"].Should().Be(requests[0].Headers["Authorization"], "the secret is the one validated");
    }
}
