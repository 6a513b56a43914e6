using Akka.Actor;
using Akka.Hosting;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;

namespace RunbookPilot.Engine.Api;

/// <summary>Alerts into the intake: submissions, dry runs and the backlog the webhook's admission control reads.</summary>
public sealed class AlertsApi(IRequiredActor<AlertIntake> intake, TimeProvider time)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Answered once the alert is journaled with its selection and binding decisions.</summary>
    public Task<AlertAccepted> SubmitAsync(Alert alert, string source, CancellationToken ct = default) =>
        intake.ActorRef.Ask<AlertAccepted>(new SubmitAlert(alert, source), AskTimeout, ct);

    /// <summary>
    /// A dry run of an alert (PRD F5.4): the playbooks that fit run with every step recorded, none sent. The alert gets
    /// an id of its own (<c>&lt;id&gt;~dry-&lt;ticks&gt;</c>), so a dry run never makes the real alert a duplicate.
    /// </summary>
    public Task<AlertAccepted> DryRunAsync(Alert alert, string source, CancellationToken ct = default) =>
        intake.ActorRef.Ask<AlertAccepted>(new SubmitAlert(alert with { Id = $"{alert.Id}~dry-{time.GetUtcNow().UtcTicks}" }, source, DryRun: true), AskTimeout, ct);

    public Task<AlertAccepted> SubmitAsync(Alert alert, string source, bool dryRun, CancellationToken ct = default) =>
        dryRun ? DryRunAsync(alert, source, ct) : SubmitAsync(alert, source, ct);

    /// <summary>Accepted alerts whose executions have not confirmed their start yet (the engine's backlog).</summary>
    public async Task<int> BacklogAsync(CancellationToken ct = default) =>
        (await intake.ActorRef.Ask<Backlog>(GetBacklog.Instance, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false)).AlertsWaitingForExecutions;
}
