using System.Collections.Concurrent;

namespace TokenClient.Clients;

/// <summary>
/// The names registered with <c>AddTokenClient</c>, and those <c>AddTokenHandler</c> asks for, so that an unknown
/// name fails with a clear message, and a name registered twice or a handler's typo fails at start-up.
/// </summary>
internal sealed class TokenClientRegistry
{
    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TokenClientOptions> _validated = new(StringComparer.Ordinal);

    public void Add(string name) => _names[name] = _names.GetValueOrDefault(name) + 1;

    /// <summary>Notes that an <c>HttpClient</c>'s token handler uses the client <paramref name="name"/>.</summary>
    public void RequireHandler(string name) => _handlers.Add(name);

    public bool Contains(string name) => _names.ContainsKey(name);

    /// <summary>The registered names, in order.</summary>
    public IEnumerable<string> Names => _names.Keys.Order(StringComparer.Ordinal);

    public string Describe() => _names.Count == 0 ? "none" : string.Join(", ", _names.Keys.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));

    /// <summary>Keeps the options start-up validation built for a client, for the factory to build the client from.</summary>
    public void Validated(string name, TokenClientOptions options) => _validated[name] = options;

    /// <summary>The options validated for the client, once (null after, or when none were kept): built once, not twice.</summary>
    public TokenClientOptions? TakeValidated(string name) => _validated.TryRemove(name, out var options) ? options : null;

    /// <summary>What is wrong with the registrations as a whole, one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (name, count) in _names.Where(n => n.Value > 1).OrderBy(n => n.Key, StringComparer.Ordinal))
        {
            yield return $"Token client '{name}' is registered {count} times (AddTokenClient, AddTokenClients); register each name once, since the registrations would merge their options (in tests, AddFakeTokenClient goes after the application's registrations, as in ConfigureTestServices).";
        }

        foreach (var name in _handlers.Where(h => !_names.ContainsKey(h)).Order(StringComparer.Ordinal))
        {
            yield return $"AddTokenHandler(\"{name}\") names no registered token client; register it with services.AddTokenClient(\"{name}\", ...). Registered: {Describe()}.";
        }
    }
}
