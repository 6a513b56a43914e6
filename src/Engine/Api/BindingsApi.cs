using Akka.Actor;
using Akka.Hosting;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Engine.Ingestion;

namespace RunbookPilot.Engine.Api;

/// <summary>Binding CRUD, previews, manual runs and kill switches: all decided by the intake, in order with the alerts.</summary>
public sealed class BindingsApi(IRequiredActor<AlertIntake> intake)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    private Task<T> Ask<T>(object message, CancellationToken ct) => intake.ActorRef.Ask<T>(message, AskTimeout, ct);

    /// <summary>The bindings with their live guardrail state, the kill switches that are on and how many decisions are held.</summary>
    public Task<BindingsView> ListAsync(CancellationToken ct = default) => Ask<BindingsView>(GetBindings.Instance, ct);

    /// <summary>Creates (no id) or changes (with id) a binding; refusals name each field.</summary>
    public Task<BindingResult> SaveAsync(BindingSpec spec, string by, CancellationToken ct = default) => Ask<BindingResult>(new SaveBinding(spec, by), ct);

    /// <summary>Saves, then answers with the saved binding's live view (null when refused: see the result's problems).</summary>
    public async Task<(BindingResult Result, BindingView? View)> SaveAndViewAsync(BindingSpec spec, string by, CancellationToken ct = default)
    {
        var result = await SaveAsync(spec, by, ct).ConfigureAwait(false);
        return result.Binding is { } saved ? (result, (await ListAsync(ct).ConfigureAwait(false)).Bindings.Single(b => b.Binding.Id == saved.Id)) : (result, null);
    }

    public Task<BindingResult> DeleteAsync(int bindingId, string by, CancellationToken ct = default) => Ask<BindingResult>(new DeleteBinding(bindingId, by), ct);

    /// <summary>What the bindings would decide for an alert now (no side effects).</summary>
    public async Task<List<BindingDecision>> PreviewAsync(Alert alert, CancellationToken ct = default) =>
        [.. (await Ask<BindingsPreview>(new PreviewBindings(alert), ct).ConfigureAwait(false)).Decisions];

    /// <summary>A manual run of a binding for an alert: guardrails bypassed, the autonomy contract kept; audited with who and why.</summary>
    public Task<BindingRunResult> RunAsync(Alert alert, int bindingId, BindingMode? mode, string by, string? reason, CancellationToken ct = default) =>
        Ask<BindingRunResult>(new RunBinding(alert, bindingId, mode, by, reason), ct);

    /// <summary>Turns a kill switch on or off (globally: target ignored; a playbook id; a binding id).</summary>
    public Task<PauseResult> PauseAsync(PauseScope scope, string target, bool paused, string by, string? reason, CancellationToken ct = default) =>
        Ask<PauseResult>(new SetPause(scope, target, paused, by, reason), ct);
}
