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

    private static Dictionary<string, HashSet<string>> FolderDependencies()
    {
        var src = Path.Combine(Repository.Root, "src", "TokenClient");
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var relative = Path.GetRelativePath(src, file);
            var folder = relative.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) ? relative.Split(Path.DirectorySeparatorChar)[0] : "";
            var uses = graph.TryGetValue(folder, out var set) ? set : graph[folder] = new HashSet<string>(StringComparer.Ordinal);
            var text = File.ReadAllText(file);
            foreach (Match match in Reference().Matches(text).Concat(RelativeReference().Matches(text)))
            {
                var target = match.Groups[1].Value;
                if (target != folder && Directory.Exists(Path.Combine(src, target)))
                {
                    uses.Add(target);
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
    // namespace can write without a using: a folder's name not preceded by another name or a dot.
    [GeneratedRegex(@"(?<![\w.])([A-Z][A-Za-z]+)\.[A-Z]")]
    private static partial Regex RelativeReference();
}
