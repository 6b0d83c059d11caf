namespace TokenClient.Tests.Endpoint;

/// <summary>What one tenant's token requests are made from.</summary>
public class TokenRequestContextTests
{
    [Fact]
    public void BasicCredentials_AreEncodedOnce_ForEveryRequestOfTheContext()
    {
        var context = RequestContexts.For("api", new TokenClientOptions { ClientId = "the id", ClientSecret = "a+b" }, new Uri("https://auth.test/token"));

        var header = context.BasicCredentials;

        header.Should().BeSameAs(context.BasicCredentials);
        header.Scheme.Should().Be("Basic");
        System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter!)).Should().Be("the+id:a%2Bb", "RFC 6749 2.3.1: each part form-encoded");
    }
}
