namespace RunbookPilot.Engine.Hosting;

/// <summary>The engine's own Prometheus registry (two engines in one process never mix their figures).</summary>
public sealed class EngineMetrics
{
    public EngineMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        Factory = Prometheus.Metrics.WithCustomRegistry(Registry);
    }

    public Prometheus.CollectorRegistry Registry { get; }
    public Prometheus.IMetricFactory Factory { get; }
}
