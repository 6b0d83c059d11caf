using Microsoft.Extensions.DependencyInjection;

namespace TokenClient.Tests;

/// <summary>The public surface is the contract of DESIGN.md and no more; everything else stays internal.</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicTypes_AreExactlyTheContract()
    {
        var exported = typeof(ITokenClient).Assembly.GetExportedTypes().Select(t => t.FullName).Order(StringComparer.Ordinal);

        exported.Should().Equal(
            "Microsoft.Extensions.DependencyInjection.TokenClientBuilderExtensions",
            "Microsoft.Extensions.DependencyInjection.TokenClientHealthCheckExtensions",
            "Microsoft.Extensions.DependencyInjection.TokenClientServiceCollectionExtensions",
            "Microsoft.Extensions.DependencyInjection.TokenHandlerHttpClientBuilderExtensions",
            "TokenClient.AccessToken",
            "TokenClient.ClientAuthentication",
            "TokenClient.HttpRequestMessageTokenExtensions",
            "TokenClient.ISharedTokenLock",
            "TokenClient.ITokenClient",
            "TokenClient.ITokenClientBuilder",
            "TokenClient.ITokenClientFactory",
            "TokenClient.TokenClientOptions",
            "TokenClient.TokenRequestException",
            "TokenClient.WllEnvironment",
            "TokenClient.WllRegion");
    }

    [Fact]
    public void RedisPackage_ExportsItsRegistrationOnly()
    {
        var exported = typeof(TokenClientRedisServiceCollectionExtensions).Assembly.GetExportedTypes().Select(t => t.FullName);

        exported.Should().Equal("Microsoft.Extensions.DependencyInjection.TokenClientRedisServiceCollectionExtensions");
    }

    [Fact]
    public void PublicClasses_AreSealedOrStatic_ExceptTheExceptionUsersMayDeriveFrom()
    {
        var open = typeof(ITokenClient).Assembly.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract && t != typeof(TokenRequestException));

        open.Should().BeEmpty();
    }

    [Fact]
    public void AccessToken_ToString_NeverShowsTheValue()
    {
        var token = new AccessToken("eyJ.secret.value", "bearer", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), "read");

        token.ToString().Should().NotContain("secret").And.Contain("Bearer").And.Contain("read").And.Contain("2026-01-01");
        token.TokenType.Should().Be("Bearer");
        typeof(TokenClientServiceCollectionExtensions).Namespace.Should().Be("Microsoft.Extensions.DependencyInjection");
    }
}
