// Draws the README's performance chart from BenchmarkDotNet's CSV export, so that the next run redraws it:
//   dotnet run bench/chart.cs -- BenchmarkDotNet.Artifacts/results docs/performance.svg
// One panel per benchmark class whose name ends in "PeerBenchmarks"; one bar per row (a parameter, if any, in brackets),
// its length the mean time on a log scale, its label the mean and the memory allocated. TokenClient's rows are drawn in
// the accent colour, the baseline's in grey.
using System.Globalization;
using System.Text;

var results = args.Length > 0 ? args[0] : "BenchmarkDotNet.Artifacts/results";
var output = args.Length > 1 ? args[1] : "docs/performance.svg";
var files = Directory.GetFiles(results, "*PeerBenchmarks-report.csv").Order(StringComparer.Ordinal).ToArray();
if (files.Length == 0)
{
    Console.Error.WriteLine($"No *PeerBenchmarks-report.csv in {results}: run the benchmarks with --exporters csv first.");
    return 1;
}

var panels = files.Select(Read).ToList();
const int Width = 1000, Left = 430, Right = 150, Row = 22, Title = 30, Gap = 18;
var min = panels.SelectMany(p => p.Rows).Min(r => r.MeanNs);
var max = panels.SelectMany(p => p.Rows).Max(r => r.MeanNs);
var (low, high) = (Math.Floor(Math.Log10(min)), Math.Ceiling(Math.Log10(max)));
double X(double ns) => Left + ((Math.Log10(ns) - low) / (high - low) * (Width - Left - Right));

var height = 50 + panels.Sum(p => Title + (p.Rows.Count * Row) + Gap) + 30;
var svg = new StringBuilder();
svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" font-family="Segoe UI, Helvetica, Arial, sans-serif" font-size="12">""").AppendLine();
svg.AppendLine($"""<rect width="100%" height="100%" fill="white"/>""");
svg.AppendLine("""<text x="10" y="24" font-size="16" font-weight="bold">TokenClient (blue) and its peers: mean time per operation (log scale) · memory allocated</text>""");
var y = 50;
foreach (var panel in panels)
{
    svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="10" y="{y + 18}" font-size="14" font-weight="bold">{Escape(panel.Name)}</text>""");
    y += Title;
    foreach (var row in panel.Rows)
    {
        var colour = row.Label.StartsWith("TokenClient", StringComparison.Ordinal) ? "#2b6cb0" : row.Baseline ? "#a0aec0" : "#ed8936";
        var end = X(row.MeanNs);
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left - 8}" y="{y + 15}" text-anchor="end">{Escape(row.Label)}</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{y + 4}" width="{Math.Max(1, end - Left):F1}" height="{Row - 8}" fill="{colour}"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{end + 6:F1}" y="{y + 15}">{Escape(row.Mean)} · {Escape(row.Allocated)}</text>""");
        y += Row;
    }

    y += Gap;
}

for (var decade = low; decade <= high; decade++)
{
    var x = X(Math.Pow(10, decade));
    svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{x:F1}" y1="44" x2="{x:F1}" y2="{y}" stroke="#e2e8f0"/>""");
    svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{x:F1}" y="{y + 16}" text-anchor="middle" fill="#4a5568">{Unit(Math.Pow(10, decade))}</text>""");
}

svg.AppendLine("</svg>");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
File.WriteAllText(output, svg.ToString());
Console.WriteLine($"{output}: {panels.Sum(p => p.Rows.Count)} rows from {files.Length} reports");
return 0;

static Panel Read(string file)
{
    var lines = File.ReadAllLines(file).Select(Split).ToList();
    var header = lines[0];
    int Column(string name) => Array.IndexOf(header, name);
    var (method, mean, allocated, ratio) = (Column("Method"), Column("Mean"), Column("Allocated"), Column("Ratio"));
    var parameters = header.Where(h => h is "Tenants").ToArray(); // the benchmarks' parameters
    // The baseline is the first row of its group (each peer class declares it first, and BenchmarkDotNet keeps that
    // order): its Ratio is not always 1.00, since BenchmarkDotNet averages the ratios of its own noisy iterations.
    var groups = new HashSet<string>(StringComparer.Ordinal);
    var rows = lines.Skip(1).Where(l => l.Length == header.Length).Select(l =>
    {
        var parameter = string.Join(", ", parameters.Select(p => $"{l[Column(p)]} {p.ToLowerInvariant()}"));
        var label = l[method].Trim('\'') + (parameter.Length > 0 ? $" [{parameter}]" : "");
        return new Bar(label, l[mean], Nanoseconds(l[mean]), l[allocated], Baseline: ratio >= 0 && groups.Add(parameter));
    }).ToList();
    var name = Path.GetFileName(file).Split('-')[0].Split('.').Last().Replace("PeerBenchmarks", "", StringComparison.Ordinal);
    return new Panel(name switch
    {
        "CachedToken" => "A cached token",
        "Handler" => "An API request through an HttpClient with a cached token",
        "Acquisition" => "One token acquisition (in-process endpoint)",
        "ColdStart" => "Cold start: a new container and its first token",
        _ => name,
    }, rows);
}

static string[] Split(string line)
{
    var fields = new List<string>();
    var field = new StringBuilder();
    var quoted = false;
    foreach (var c in line)
    {
        if (c == '"')
        {
            quoted = !quoted;
        }
        else if ((c == ',' || c == ';') && !quoted)
        {
            fields.Add(field.ToString());
            field.Clear();
        }
        else
        {
            field.Append(c);
        }
    }

    fields.Add(field.ToString());
    return [.. fields];
}

static double Nanoseconds(string text)
{
    var parts = text.Trim().Split(' ');
    var value = double.Parse(parts[0].Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
    return value * (parts.Length < 2 ? 1 : parts[1] switch
    {
        "ns" => 1,
        "us" or "μs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => throw new FormatException($"unknown unit in '{text}'"),
    });
}

static string Unit(double ns) => ns switch
{
    < 1e3 => $"{ns:0} ns",
    < 1e6 => $"{ns / 1e3:0} µs",
    < 1e9 => $"{ns / 1e6:0} ms",
    _ => $"{ns / 1e9:0} s",
};

static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

internal sealed record Bar(string Label, string Mean, double MeanNs, string Allocated, bool Baseline);

internal sealed record Panel(string Name, List<Bar> Rows);
