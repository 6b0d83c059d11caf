namespace TokenClient.Tests;

/// <summary>The token a caller gets: its type normalized, its header built once, its description without its value.</summary>
public class AccessTokenTests
{
    private static readonly DateTimeOffset Expiry = new(2026, 1, 1, 1, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("bearer", "Bearer")]
    [InlineData("BEARER", "Bearer")]
    [InlineData("dpop", "DPoP")]
    [InlineData("DPOP", "DPoP")]
    [InlineData("N_A", "N_A")]
    public void TokenType_IsNormalizedForBearerAndDPoP_AndKeptAsGivenOtherwise(string given, string kept)
    {
        new AccessToken("value", given, Expiry).TokenType.Should().Be(kept);
    }

    [Fact]
    public void AuthorizationHeader_IsBuiltOncePerToken_WithTheTypeAndTheValue()
    {
        var token = new AccessToken("the-value", "dpop", Expiry);

        var header = token.AuthorizationHeader;

        header.Should().BeSameAs(token.AuthorizationHeader, "the handler attaches the same header to every request");
        (header.Scheme, header.Parameter).Should().Be(("DPoP", "the-value"));
    }

    [Fact]
    public void ToString_DescribesTheTokenWithoutItsValue_WithItsScopeWhenItHasOne()
    {
        new AccessToken("secret-value", "Bearer", Expiry).ToString().Should().Be("Bearer token, expires 2026-01-01T01:00:00.0000000+00:00");
        new AccessToken("secret-value", "Bearer", Expiry, "orders").ToString()
            .Should().Be("Bearer token for scope 'orders', expires 2026-01-01T01:00:00.0000000+00:00");
    }
}
