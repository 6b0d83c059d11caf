namespace TokenClient.DependencyInjection;

/// <summary>The names registered with <c>AddTokenClient</c>, so that an unknown name fails with a clear message.</summary>
internal sealed class TokenClientRegistry
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>The <see cref="IHttpClientFactory"/> client through which a token client calls its token endpoint.</summary>
    public static string HttpClientName(string clientName) => $"TokenClient.{clientName}";

    public void Add(string name) => _names.Add(name);

    public bool Contains(string name) => _names.Contains(name);

    public string Describe() => _names.Count == 0 ? "none" : string.Join(", ", _names.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
}
