using System.Diagnostics.CodeAnalysis;
using TokenClient.Endpoint;

namespace TokenClient.Providers;

/// <summary>The providers by the name the <c>Provider</c> key takes. A new provider is one line here.</summary>
internal static class ProviderRegistry
{
    private static readonly Dictionary<string, TokenRequestShaper> s_shapers = new TokenRequestShaper[]
    {
        new GenericShaper(),
        new LoneWolfShaper(),
        new WllShaper(),
        new ApimwShaper(),
        new Login3Shaper(),
        new WokeloShaper(),
    }.ToDictionary(shaper => shaper.Name, StringComparer.OrdinalIgnoreCase);

    public static IEnumerable<string> Names => s_shapers.Keys;

    // Stryker disable once String : no provider is named "" or "Stryker was here!": either stands for none
    public static bool TryGet(string? provider, [NotNullWhen(true)] out TokenRequestShaper? shaper) =>
        s_shapers.TryGetValue(provider ?? string.Empty, out shaper);
}
