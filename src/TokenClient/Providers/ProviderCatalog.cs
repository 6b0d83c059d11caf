using System.Diagnostics.CodeAnalysis;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>
/// The providers by the name the <c>Provider</c> key takes: the built-in ones (a new one is one line here), and those the
/// user of a container added with <c>AddTokenProvider</c>.
/// </summary>
internal sealed class ProviderCatalog
{
    private static readonly Dictionary<string, ProviderShaper> s_builtIn = new ProviderShaper[]
    {
        new GenericShaper(),
        new LoneWolfShaper(),
        new WllShaper(),
        new ApimwShaper(),
        new Login3Shaper(),
        new WokeloShaper(),
    }.ToDictionary(shaper => shaper.Name, StringComparer.OrdinalIgnoreCase);

    private readonly Dictionary<string, ProviderShaper> _custom = new(StringComparer.OrdinalIgnoreCase);

    public ProviderCatalog(IEnumerable<TokenProvider> custom)
    {
        foreach (var provider in custom)
        {
            if (s_builtIn.ContainsKey(provider.Name) || !_custom.TryAdd(provider.Name, new CustomShaper(provider)))
            {
                Problems.Add($"Token provider '{provider.Name}' ({provider.GetType().Name}) is added twice or has the name of a built-in provider; give it a name of its own.");
            }
        }
    }

    /// <summary>The built-in providers alone, for what runs without a container's catalog.</summary>
    public static ProviderCatalog BuiltIn { get; } = new([]);

    /// <summary>What is wrong with the providers added, reported with every client's problems at start-up.</summary>
    public List<string> Problems { get; } = [];

    public IEnumerable<string> Names => s_builtIn.Keys.Concat(_custom.Keys);

    // Stryker disable once String : no provider is named "" or "Stryker was here!": either stands for none
    public bool TryGet(string? name, [NotNullWhen(true)] out ProviderShaper? shaper) =>
        s_builtIn.TryGetValue(name ?? string.Empty, out shaper) || _custom.TryGetValue(name ?? string.Empty, out shaper);
}
