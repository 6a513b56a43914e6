using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/RunbookPilot.Bench -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
