namespace RunbookPilot.Web.Services;

/// <summary>How the host runs the dashboard: <see cref="Demo"/> when simulators stand in for vendors (a banner says so).</summary>
public sealed record DashboardOptions(bool Demo);
