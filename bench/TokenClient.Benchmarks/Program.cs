using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/TokenClient.Benchmarks -- --filter '*'
//
// Before and after in one run (bench/before-after.sh): --baseline <the source tree of an earlier commit> runs each
// benchmark twice, as job "now" (this source) and job "before" (built against that tree), with the same counts. Each
// job's ratios are against the baseline method of that job.
var at = Array.IndexOf(args, "--baseline");
if (at < 0)
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    return;
}

if (at + 1 >= args.Length || !Directory.Exists(Path.Combine(args[at + 1], "src", "TokenClient")))
{
    Console.Error.WriteLine("--baseline needs the source tree of an earlier commit (a folder with src/TokenClient).");
    Environment.Exit(2);
}

var tree = Path.GetFullPath(args[at + 1]);
var job = Job.Default.WithIterationCount(15).WithWarmupCount(3).WithLaunchCount(1);
var config = DefaultConfig.Instance
    .AddJob(job.WithId("now"))
    .AddJob(job.WithId("before").WithArguments([new MsBuildArgument($"/p:TokenClientBaseline={tree}")]));
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. args[..at], .. args[(at + 2)..]], config);
