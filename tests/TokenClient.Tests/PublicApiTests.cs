using Microsoft.Extensions.DependencyInjection;

using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests;

/// <summary>The public surface is the documented contract (README, PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt) and no more; everything else stays internal.</summary>
public class PublicApiTests
{
    public static TheoryData<string, Type> Packages() => new()
    {
        { "TokenClient", typeof(ITokenClient) },
        { "TokenClient.Redis", typeof(TokenClientRedisServiceCollectionExtensions) },
        { "TokenClient.Testing", typeof(TokenClient.Testing.FakeTokenEndpoint) },
    };

    // The PublicApiAnalyzers fail the build when the code and the PublicAPI files differ; this checks that they
    // look at the files at all: each exported type is a line of them, and each type line is an exported type.
    [Theory]
    [MemberData(nameof(Packages))]
    public void ExportedTypes_AreThoseTheTrackedPublicApiDeclares(string package, Type anyType)
    {
        var directory = Path.Combine(Repository.Root, "src", package);
        var declared = new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" }
            .SelectMany(file => File.ReadAllLines(Path.Combine(directory, file)))
            .Where(line => line.Length > 0 && !line.StartsWith('#') && !line.Contains("->", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        var exported = anyType.Assembly.GetExportedTypes().Select(t => t.FullName).Order(StringComparer.Ordinal);

        exported.Should().Equal(declared).And.NotBeEmpty();
    }

    [Fact]
    public void PublicClasses_AreSealedOrStatic_ExceptTheExceptionUsersMayDeriveFrom()
    {
        var open = new[] { typeof(ITokenClient), typeof(TokenClient.Testing.FakeTokenEndpoint) }.SelectMany(t => t.Assembly.GetExportedTypes())
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
