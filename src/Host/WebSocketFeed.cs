using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Live;

namespace RunbookPilot.Host;

/// <summary>
/// <c>/ws</c>: pushes execution.updated, approval.created / approval.decided / approval.expired and simulation.created
/// to every connected (authenticated) client as the executions decide them — from the engine's live updates (the
/// approval-queue actor passes every execution update on, in order), not by polling the read model. Binding decisions go out as <c>playbook.run_audit.created</c> in exactly the phase-7B seed's
/// shape (<c>{"t": …, "data": {alertId, bindingId, …}}</c>); kill switches and circuits as <c>control.changed</c>.
/// </summary>
public sealed class WebSocketFeed : IDisposable
{
    private readonly ConcurrentDictionary<Guid, Channel<string>> _clients = new();
    private readonly LiveUpdates _updates;

    public WebSocketFeed(LiveUpdates updates)
    {
        _updates = updates;
        _updates.Published += OnPublished;
    }

    public void Dispose() => _updates.Published -= OnPublished;

    private void OnPublished(object message)
    {
        switch (message)
        {
            case ExecutionUpdated u:
                foreach (var m in Messages(u)) Broadcast(m);
                break;
            case BindingAudited a:
                Broadcast(RunAudit(a));
                break;
            case ControlChanged c:
                Broadcast(new { type = "control.changed", kind = c.Kind, message = c.Message, at = c.At });
                break;
        }
    }

    public async Task ServeAsync(WebSocket socket, CancellationToken ct)
    {
        var id = Guid.NewGuid();
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        _clients[id] = channel;
        try
        {
            var receive = Task.Run(async () =>
            {
                var buffer = new byte[1024];
                while (socket.State == WebSocketState.Open && (await socket.ReceiveAsync(buffer, ct)).MessageType != WebSocketMessageType.Close) { }
            }, ct);
            await foreach (var message in channel.Reader.ReadAllAsync(ct))
            {
                if (socket.State != WebSocketState.Open || receive.IsCompleted) break;
                await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, ct);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // client gone or server stopping
        }
        finally
        {
            _clients.TryRemove(id, out _);
        }
    }

    private void Broadcast(object message)
    {
        var json = JsonSerializer.Serialize(message);
        foreach (var client in _clients.Values) client.Writer.TryWrite(json);
    }

    /// <summary>The messages one execution update produces, in the order its events happened.</summary>
    public static IEnumerable<object> Messages(ExecutionUpdated u)
    {
        foreach (var e in u.Events)
        {
            switch (e)
            {
                case ApprovalRequested a:
                    yield return new { type = "approval.created", execution_id = u.ExecutionId, playbook_id = u.PlaybookId, step_id = a.StepId, approval_id = a.ApprovalId, deadline = a.Deadline };
                    break;
                case StepApproved a:
                    yield return new { type = "approval.decided", execution_id = u.ExecutionId, step_id = a.StepId, approval_id = a.ApprovalId, decision = "approved", by = a.Approver };
                    break;
                case StepRejected r:
                    yield return new { type = "approval.decided", execution_id = u.ExecutionId, step_id = r.StepId, approval_id = r.ApprovalId, decision = "rejected", by = r.By };
                    break;
                case ApprovalExpired x:
                    yield return new { type = "approval.expired", execution_id = u.ExecutionId, step_id = x.StepId, approval_id = x.ApprovalId };
                    break;
                case StepSimulated s:
                    yield return new { type = "simulation.created", execution_id = u.ExecutionId, step_id = s.StepId, simulation_id = s.SimulationId, risk_score = s.Simulation.RiskScore };
                    break;
            }
        }
        yield return new { type = "execution.updated", execution_id = u.ExecutionId, playbook_id = u.PlaybookId, status = u.Status, settled = u.Settled };
    }

    /// <summary>The seed's WebSocket event for one audit row (a decision, or a run that ended).</summary>
    public static object RunAudit(BindingAudited a) => new
    {
        t = "playbook.run_audit.created",
        data = new
        {
            alertId = a.AlertId,
            bindingId = a.Decision.BindingId,
            playbookId = a.Decision.PlaybookId,
            mode = BindingDecision.Name(a.Decision.Mode),
            decision = BindingDecision.Name(a.Decision.Decision),
            success = a.Success,
            reason = a.Decision.Reason,
            startedAt = a.Decision.At,
            finishedAt = a.Finished ? a.FinishedAt : a.Decision.StartsExecution ? null : a.Decision.At,
            outputRef = a.Decision.ExecutionId,
        },
    };
}
