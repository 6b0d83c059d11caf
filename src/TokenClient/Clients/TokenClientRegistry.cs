using Microsoft.Extensions.Options;
using TokenClient.Providers;

namespace TokenClient.Clients;

/// <summary>One name a registration made: a client's (<c>AddTokenClient</c>), or one a token handler uses (<c>AddTokenHandler</c>).</summary>
/// <remarks>
/// A singleton instance of its own per registration, never changed: a container built from the collection reads the
/// registrations made before it was built, and a copy of the collection or a later registration changes nothing it reads.
/// </remarks>
internal sealed record TokenClientRegistration(string Name, bool ByHandler);

/// <summary>
/// The names registered with <c>AddTokenClient</c>, and those <c>AddTokenHandler</c> asks for, so that an unknown
/// name fails with a clear message, and a name registered twice or a handler's typo fails at start-up. One per
/// container, read from its <see cref="TokenClientRegistration"/>s: not options, so that no options pipeline is resolved for it.
/// </summary>
internal sealed class TokenClientRegistry
{
    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _handlers = new(StringComparer.Ordinal);

    public TokenClientRegistry(IEnumerable<TokenClientRegistration> registrations)
    {
        foreach (var (name, byHandler) in registrations)
        {
            if (byHandler)
            {
                _handlers.Add(name);
            }
            else
            {
                _names[name] = _names.GetValueOrDefault(name) + 1;
            }
        }
    }

    public bool Contains(string name) => _names.ContainsKey(name);

    /// <summary>The registered names, in order.</summary>
    public string[] Names => Sorted(_names.Keys);

    public string Describe() => _names.Count == 0 ? "none" : string.Join(", ", Names.Select(n => $"'{n}'"));

    /// <summary>What is wrong with the registrations as a whole, one sentence each.</summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        foreach (var name in Names)
        {
            if (_names[name] is var count and > 1)
            {
                problems.Add($"Token client '{name}' is registered {count} times (AddTokenClient, AddTokenClients); register each name once, since the registrations would merge their options (in tests, AddFakeTokenClient goes after the application's registrations, as in ConfigureTestServices).");
            }
        }

        foreach (var name in Sorted(_handlers))
        {
            if (!_names.ContainsKey(name))
            {
                problems.Add($"AddTokenHandler(\"{name}\") names no registered token client; register it with services.AddTokenClient(\"{name}\", ...). Registered: {Describe()}.");
            }
        }

        return problems;
    }

    private static string[] Sorted(IReadOnlyCollection<string> names)
    {
        var sorted = names.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }

    /// <summary>
    /// Checks every client at once: the registrations as a whole (each name once, every handler's name registered), then
    /// each client's configuration. All the problems of all the clients come out in one <see cref="OptionsValidationException"/>,
    /// one per line, rather than the first client's alone or an <see cref="AggregateException"/> of one exception per client.
    /// </summary>
    /// <returns>Each client's validated options, by name.</returns>
    public Dictionary<string, TokenClientOptions> Validate(IOptionsFactory<TokenClientOptions> clients, ProviderCatalog providers)
    {
        var problems = Problems();
        problems.AddRange(providers.Problems);
        var validated = new Dictionary<string, TokenClientOptions>(StringComparer.Ordinal);
        foreach (var client in Names)
        {
            try
            {
                validated[client] = clients.Create(client);
            }
            catch (OptionsValidationException invalid)
            {
                problems.AddRange(invalid.Failures);
            }
        }

        return problems.Count == 0 ? validated : throw new TokenClientConfigurationException(problems);
    }
}

/// <summary>The start-up failure of the token clients' configuration, with one problem per line of its message.</summary>
internal sealed class TokenClientConfigurationException(IReadOnlyList<string> failures)
    : OptionsValidationException(Options.DefaultName, typeof(TokenClientOptions), failures)
{
    public override string Message => failures.Count == 1
        ? failures[0]
        : $"The token clients' configuration has {failures.Count} problems:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}";
}
