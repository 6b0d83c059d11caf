using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/TokenClient.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
