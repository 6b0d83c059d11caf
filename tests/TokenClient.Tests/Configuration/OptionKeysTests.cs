using TokenClient.Configuration;
using TokenClient.Providers;

namespace TokenClient.Tests.Configuration;

/// <summary>The one table of keys covers every option, and each provider's keys come from it.</summary>
public class OptionKeysTests
{
    [Fact]
    public void All_HasOneKeyPerOptionProperty()
    {
        // The one option that is an object, not a value, is set in code only.
        var properties = typeof(TokenClientOptions).GetProperties().Select(p => p.Name).Where(name => name != nameof(TokenClientOptions.SharedCacheProtector));

        OptionKeys.All.Keys.Should().BeEquivalentTo(properties, "a property without a key could not be configured from appsettings.json");
    }

    [Fact]
    public void SentByProvider_AreTheKeysSomeProvidersLeaveOut()
    {
        OptionKeys.SentByProvider.Select(k => k.Name).Should().Equal("Scope", "Audience", "Resource", "Tenant", "Domain", "Username", "Password");
    }

    [Fact]
    public void UsedKeys_OfEveryProvider_ComeFromTheTable()
    {
        foreach (var name in ProviderCatalog.BuiltIn.Names)
        {
            ProviderCatalog.BuiltIn.TryGet(name, out var shaper).Should().BeTrue();
            shaper!.UsedKeys.Except(OptionKeys.SentByProvider).Should().BeEmpty($"{name} lists only keys of the table");
        }
    }
}
