using BenchmarkDotNet.Running;
using RunbookPilot.Bench;

// Whole-system load drivers:  dotnet run -c Release --project bench/RunbookPilot.Bench -- throughput [executions] [batch|nobatch]
//                             dotnet run -c Release --project bench/RunbookPilot.Bench -- selection [playbooks]
//                             dotnet run -c Release --project bench/RunbookPilot.Bench -- webhook [seconds] [alerts per request]
//                             dotnet run -c Release --project bench/RunbookPilot.Bench -- bindings [bindings]
//                             dotnet run -c Release --project bench/RunbookPilot.Bench -- dashboard [executions]
//                             dotnet run -c Release --project bench/RunbookPilot.Bench -- approvals [alerts]
//                             dotnet run -c Release --project bench/RunbookPilot.Bench -- card [alerts]
//                             dotnet run -c Release --project bench/RunbookPilot.Bench -- cluster <nodes> [alerts] [sqlite]
//                             dotnet run -c Release --project bench/RunbookPilot.Bench -- job [alerts]
// Hot-path micro-benchmarks:  dotnet run -c Release --project bench/RunbookPilot.Bench -- --filter '*'
return args.FirstOrDefault() switch
{
    "throughput" => await ExecutionThroughput.RunAsync(args.Skip(1).ToArray()),
    "selection" => SelectionLatency.Run(args.Skip(1).ToArray()),
    "webhook" => await WebhookLoad.RunAsync(args.Skip(1).ToArray()),
    "bindings" => BindingEvaluation.Run(args.Skip(1).ToArray()),
    "dashboard" => await DashboardLoad.RunAsync(args.Skip(1).ToArray()),
    "approvals" => await ApprovalLatency.RunAsync(args.Skip(1).ToArray()),
    "card" => await CardLatency.RunAsync(args.Skip(1).ToArray()),
    "cluster" => await ClusterLoad.RunAsync(args.Skip(1).ToArray()),
    "job" => await ClusterLoad.JobAsync(args.Skip(1).ToArray()),
    _ => Bdn(args),
};

static int Bdn(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(PlaybookLoadBenchmark).Assembly).Run(args);
    return 0;
}
