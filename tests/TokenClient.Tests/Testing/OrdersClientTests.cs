using System.Net;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using RichardSzalay.MockHttp;
using TokenClient;
using Xunit;

namespace TokenClient.Tests.Testing;

// The README's example of TokenClient.Testing, as it is written there (ReadmeExampleTests keeps the two the same).
#pragma warning disable CA1707 // the README's test name reads as a sentence
public class OrdersClientTests
{
    [Fact]
    public async Task Orders_are_fetched_with_the_backoffice_token()
    {
        var services = new ServiceCollection();
        var tokens = services.AddFakeTokenClient("backoffice");  // registers "backoffice", or fakes the app's own
        var api = new MockHttpMessageHandler();                    // the API: 200 for a valid token, else 401
        api.When("https://orders.example.test/orders/count").Respond(request =>
            tokens.IsValid(request.Headers.Authorization?.Parameter)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("3") }
                : new HttpResponseMessage(HttpStatusCode.Unauthorized));
        services.AddHttpClient<OrdersClient>(c => c.BaseAddress = new Uri("https://orders.example.test/"))
            .AddTokenHandler("backoffice")
            .ConfigurePrimaryHttpMessageHandler(() => api);
        await using var provider = services.BuildServiceProvider();
        var orders = provider.GetRequiredService<OrdersClient>();

        (await orders.CountAsync()).Should().Be(3);
        tokens.Requests.Should().ContainSingle().Which.GrantType.Should().Be("client_credentials");

        tokens.Revoke();                                           // the API refuses the token now:
        (await orders.CountAsync()).Should().Be(3);                // the handler renews it and resends once
        tokens.RequestCount.Should().Be(2);

        tokens.Fail();                                             // the endpoint refuses (401 invalid_client)
        tokens.Expire();                                           // and the client's token is gone
        await orders.Invoking(o => o.CountAsync()).Should().ThrowAsync<TokenRequestException>();

        tokens.Recover();
        (await orders.CountAsync()).Should().Be(3);
    }
}
#pragma warning restore CA1707

/// <summary>The code under test in the README's example: a typed client of the orders API.</summary>
public sealed class OrdersClient(HttpClient http)
{
    public async Task<int> CountAsync() => int.Parse(await http.GetStringAsync("orders/count"), System.Globalization.CultureInfo.InvariantCulture);
}
