using System.Text.RegularExpressions;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests;

/// <summary>The library's folders depend on each other in one direction only, and its root (the public types) on none of them.</summary>
public partial class LayoutTests
{
    [Fact]
    public void Folders_ImportEachOther_WithoutACycle()
    {
        var graph = FolderDependencies();

        graph.Should().ContainKey("Http").And.ContainKey("Clients"); // the scan found the folders
        graph[""].Should().BeEmpty("the public types at the root use no internal folder");
        foreach (var folder in graph.Keys)
        {
            Reaches(graph, folder, folder, []).Should().BeFalse($"'{folder}' must not import a folder that imports it back: {Describe(graph)}");
        }
    }

    [Fact]
    public void BelowClients_NoCodeReadsTheOptions_ButToResolveThem()
    {
        // Endpoint/ and Providers/ read the settings a client's definition resolved once; the options are read by
        // configuration, validation and Clients/ alone. The exceptions: the two types that resolve them, and the
        // provider's part in TokenClient.Testing (FillForFake), which writes options before they are validated.
        var src = Path.Combine(Repository.Root, "src", "TokenClient");
        string[] below = ["Endpoint", "Providers", "Caching", "Sharing", "Http", "Credentials", "Jose", "Diagnostics"];
        var readers = below
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(src, folder), "*.cs"))
            .Where(f => Path.GetFileName(f) is not ("RequestSettings.cs" or "ExchangeLimits.cs"))
            .Where(f => CommentsAndStrings().Replace(File.ReadAllText(f), " ").Replace("FillForFake(TokenClientOptions", "", StringComparison.Ordinal)
                .Contains("TokenClientOptions", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(src, f))
            .ToList();

        below.Should().OnlyContain(folder => Directory.Exists(Path.Combine(src, folder)));
        readers.Should().BeEmpty("code below Clients/ reads RequestSettings and ExchangeLimits, not TokenClientOptions");
    }

    private static Dictionary<string, HashSet<string>> FolderDependencies()
    {
        var src = Path.Combine(Repository.Root, "src", "TokenClient");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f =>
            {
                var relative = Path.GetRelativePath(src, f);
                var folder = relative.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) ? relative.Split(Path.DirectorySeparatorChar)[0] : "";
                return (Folder: folder, Code: CommentsAndStrings().Replace(File.ReadAllText(f), " "));
            })
            .ToList();

        // The types each folder declares: "Clients.NamedClient" is a reference to Clients/ only if NamedClient is one of them
        // (not a member that happens to share a folder's name, as TokenProviderRequest.Endpoint does).
        var declared = files.GroupBy(f => f.Folder).ToDictionary(
            g => g.Key,
            g => g.SelectMany(f => Declaration().Matches(f.Code).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);

        var graph = declared.Keys.ToDictionary(folder => folder, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (folder, code) in files)
        {
            var targets = Reference().Matches(code).Select(m => m.Groups[1].Value)
                .Concat(RelativeReference().Matches(code)
                    .Where(m => declared.TryGetValue(m.Groups[1].Value, out var types) && types.Contains(m.Groups[2].Value))
                    .Select(m => m.Groups[1].Value));
            foreach (var target in targets)
            {
                if (target != folder && target.Length > 0 && declared.ContainsKey(target))
                {
                    graph[folder].Add(target);
                }
            }
        }

        return graph;
    }

    private static bool Reaches(Dictionary<string, HashSet<string>> graph, string from, string target, HashSet<string> seen)
    {
        foreach (var next in graph.GetValueOrDefault(from) ?? [])
        {
            if (next == target || (seen.Add(next) && Reaches(graph, next, target, seen)))
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(Dictionary<string, HashSet<string>> graph) =>
        string.Join("; ", graph.Select(p => $"{(p.Key.Length == 0 ? "root" : p.Key)} -> {string.Join(", ", p.Value.Order(StringComparer.Ordinal))}"));

    // "using TokenClient.Http;" or a qualified "TokenClient.Http.TokenHandler".
    [GeneratedRegex(@"\bTokenClient\.([A-Z][A-Za-z]+)\b[;.]")]
    private static partial Regex Reference();

    // A name qualified by its namespace relative to TokenClient's ("Clients.NamedClient"), which code in the root
    // namespace can write without a using: a folder's name not preceded by another name or a dot, then a name.
    [GeneratedRegex(@"(?<![\w.])([A-Z][A-Za-z]+)\.([A-Z]\w*)")]
    private static partial Regex RelativeReference();

    [GeneratedRegex(@"\b(?:class|struct|record|interface|enum)\s+(?:class\s+|struct\s+)?([A-Z]\w*)")]
    private static partial Regex Declaration();

    // Comments and string literals (raw, verbatim, interpolated, plain): what they name is not a dependency.
    [GeneratedRegex(@"""""""[\s\S]*?""""""|//[^\n]*|/\*[\s\S]*?\*/|@""(?:[^""]|"""")*""|\$?""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex CommentsAndStrings();
}
