using System.Diagnostics.CodeAnalysis;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>The providers of one container: the built-in ones, and those its user added with <c>AddTokenProvider</c>.</summary>
internal sealed class ProviderCatalog
{
    private readonly Dictionary<string, TokenRequestShaper> _custom = new(StringComparer.OrdinalIgnoreCase);

    public ProviderCatalog(IEnumerable<TokenProvider> custom)
    {
        foreach (var provider in custom)
        {
            if (ProviderRegistry.TryGet(provider.Name, out _) || !_custom.TryAdd(provider.Name, new CustomShaper(provider)))
            {
                Problems.Add($"Token provider '{provider.Name}' ({provider.GetType().Name}) is added twice or has the name of a built-in provider; give it a name of its own.");
            }
        }
    }

    /// <summary>What is wrong with the providers added, reported with every client's problems at start-up.</summary>
    public List<string> Problems { get; } = [];

    public IEnumerable<string> Names => ProviderRegistry.Names.Concat(_custom.Keys);

    public bool TryGet(string? name, [NotNullWhen(true)] out TokenRequestShaper? shaper) =>
        ProviderRegistry.TryGet(name, out shaper) || _custom.TryGetValue(name ?? string.Empty, out shaper);
}
