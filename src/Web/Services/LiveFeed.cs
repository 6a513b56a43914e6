using RunbookPilot.Engine.Live;

namespace RunbookPilot.Web.Services;

/// <summary>
/// Tells open dashboard pages that something changed (an execution step, an approval, a binding decision, a kill
/// switch), from the engine's live updates (the approval-queue actor and the intake) — so a new approval shows within a
/// second without reloading.
/// </summary>
public sealed class LiveFeed : IDisposable
{
    private readonly LiveUpdates _updates;

    public LiveFeed(LiveUpdates updates)
    {
        _updates = updates;
        _updates.Published += Raise;
    }

    /// <summary>Raised on an actor's thread; subscribers marshal to their renderer with InvokeAsync.</summary>
    public event Action? Changed;

    private void Raise(object _) => Changed?.Invoke();

    public void Dispose() => _updates.Published -= Raise;
}

/// <summary>Who is signed in (from basic authentication) and whether simulators stand in for vendors.</summary>
public sealed record DashboardUser(string Name, string Role, bool Demo)
{
    public bool IsAdmin => Role == "admin";
}
