namespace TokenClient.Tests;

/// <summary>What a client's options say of themselves.</summary>
public class TokenClientOptionsTests
{
    [Fact]
    public void TokenClientOptions_DescribeTheClient_WithoutUserInformation_AndWithoutAnEndpointWhenNoneIsSet()
    {
        new TokenClientOptions { Provider = "LoneWolf", ClientId = "id" }.ToString().Should().Be("LoneWolf client 'id' at the provider's endpoint");
        new TokenClientOptions { ClientId = "id", TokenEndpoint = new Uri("https://user:pw@auth.test/token") }.ToString()
            .Should().Be("Generic client 'id' at https://auth.test/token");
        new TokenClientOptions { ClientId = "id", TokenEndpoint = new Uri("token", UriKind.Relative) }.ToString()
            .Should().Be("Generic client 'id' at token", "a relative URI, refused at start-up, is still described");
    }
}
