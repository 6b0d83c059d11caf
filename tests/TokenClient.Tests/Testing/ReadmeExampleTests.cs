using System.Text.RegularExpressions;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Testing;

/// <summary>The README's example of TokenClient.Testing is the test that runs: the two never drift apart.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void TheReadmesExample_IsOrdersClientTests_WordForWord()
    {
        var root = Repository.Root;
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var section = readme[readme.IndexOf("## Testing your code with TokenClient.Testing", StringComparison.Ordinal)..];
        var example = Regex.Match(section, "```csharp\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        var usings = example[..example.IndexOf("public class OrdersClientTests", StringComparison.Ordinal)];
        var test = example[usings.Length..];

        var file = File.ReadAllText(Path.Combine(root, "tests", "TokenClient.Tests", "Testing", "OrdersClientTests.cs")).ReplaceLineEndings("\n");

        test.Should().Contain("tokens.Expire();").And.Contain("AddFakeTokenClient(\"backoffice\")");
        file.Should().StartWith(usings).And.Contain(test);
    }

    [Fact]
    public void TheReadmesCustomProvider_IsAcmeProvider_WordForWord()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md")).ReplaceLineEndings("\n");
        var section = readme[readme.IndexOf("## Adding a provider of your own", StringComparison.Ordinal)..];
        var example = Regex.Match(section, "```csharp\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        var file = File.ReadAllText(Path.Combine(Repository.Root, "tests", "TokenClient.Tests", "CustomProviders", "AcmeProvider.cs")).ReplaceLineEndings("\n");

        example.Should().StartWith("public sealed class AcmeProvider").And.Contain("answer.Failure(");
        file.Should().Contain(example);
    }
}
