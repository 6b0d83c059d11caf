namespace TokenClient.Clients;

/// <summary>The names registered with <c>AddTokenClient</c>, so that an unknown name fails with a clear message.</summary>
internal sealed class TokenClientRegistry
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public void Add(string name) => _names.Add(name);

    public bool Contains(string name) => _names.Contains(name);

    public string Describe() => _names.Count == 0 ? "none" : string.Join(", ", _names.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
}
