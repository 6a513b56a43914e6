using Akka.Actor;
using Akka.Event;
using LinqToDB;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Yaml;
using RunbookPilot.Engine.ReadModel;

namespace RunbookPilot.Engine.Enrichment;

/// <summary>
/// Enrichment beside the execution, never in it (F7.1): follows executions on this node's event stream, asks the model
/// (or the cache) asynchronously, and attaches the answer — or why there is none — to the execution with
/// <see cref="AttachEnrichment"/>. No transition waits for it. Technique context and investigation steps start with the
/// execution; the incident summary is written once the execution is settled (finished, or waiting for people). The same
/// alert (by fingerprint) and playbook version never call the model twice: answers are cached in <c>enrichments</c>, and
/// concurrent requests for one key share one call.
/// </summary>
public sealed class EnrichmentActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LlmClient _client;
    private readonly ReadModelDb _db;
    private readonly IActorRef _executions;
    private readonly TimeProvider _time;
    private readonly HashSet<string> _awaitingSummary = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reportedReasons = new(StringComparer.Ordinal);

    public EnrichmentActor(LlmClient client, ReadModelDb db, IActorRef executions, TimeProvider time)
    {
        _client = client;
        _db = db;
        _executions = executions;
        _time = time;
        Receive<ExecutionUpdated>(OnUpdate);
        Receive<ExecutionSnapshot>(s =>
        {
            if (s.State.Started) Request(s.State, EnrichmentType.IncidentSummary);
        });
        Receive<Answered>(OnAnswer);
        Receive<Status.Failure>(f => _log.Warning("Enrichment: could not read an execution for its summary: {0}", f.Cause.Message));
    }

    public static Props Props(LlmClient client, ReadModelDb db, IActorRef executions, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new EnrichmentActor(client, db, executions, time));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ExecutionUpdated));

    /// <summary>The enrichment types a playbook asks for: technique context by default; all three with an enabled enrichment section; none when disabled.</summary>
    public static IReadOnlyList<EnrichmentType> TypesFor(Playbook playbook) => playbook.Enrichment switch
    {
        null => [EnrichmentType.TechniqueContext],
        { Enabled: false } => [],
        _ => [EnrichmentType.TechniqueContext, EnrichmentType.InvestigationSteps, EnrichmentType.IncidentSummary],
    };

    private void OnUpdate(ExecutionUpdated u)
    {
        if (u.Origin is not null) return; // the node an execution runs on enriches it
        if (u.Events.OfType<ExecutionStarted>().FirstOrDefault() is { } started)
        {
            var state = ExecutionState.Empty.Apply(started);
            var types = TypesFor(started.Playbook);
            foreach (var type in types.Where(t => t != EnrichmentType.IncidentSummary)) Request(state, type);
            if (types.Contains(EnrichmentType.IncidentSummary)) _awaitingSummary.Add(u.ExecutionId);
        }
        if (u.Settled && _awaitingSummary.Remove(u.ExecutionId))
            _executions.Ask<ExecutionSnapshot>(new GetExecution(u.ExecutionId), TimeSpan.FromSeconds(30)).PipeTo(Self);
    }

    private void Request(ExecutionState state, EnrichmentType type)
    {
        var playbook = state.Playbook!;
        if (_client.NotConfigured is { } reason)
        {
            // No model to ask: said at once, without building a prompt or reading the cache (issue 17: this was a tenth of
            // the server's CPU per alert when no model was configured).
            Attach([state.ExecutionId], ModelShape.SnakeCase(type.ToString()), _client.Options.Model, new LlmReply(false, null, reason, 0, 0, 0), cached: false);
            return;
        }
        var key = new CacheKey(PromptBuilder.Fingerprint(state.Alert), playbook.Id, playbook.Version, ModelShape.SnakeCase(type.ToString()), _client.Options.Model);
        var id = key.ToString();
        if (_waiting.TryGetValue(id, out var others))
        {
            others.Add(state.ExecutionId); // the same alert and playbook is being asked already: share its answer
            return;
        }
        _waiting[id] = [state.ExecutionId];
        var template = playbook.Enrichment?.Prompts.FirstOrDefault(p => p.Type == type)?.Template;
        var messages = PromptBuilder.Build(type, state, template);
        AnswerAsync(key, messages, state.ExecutionId).PipeTo(Self);
    }

    /// <summary>Never fails: whatever goes wrong becomes "unavailable" with the reason, so waiting executions always get an answer.</summary>
    private async Task<Answered> AnswerAsync(CacheKey key, IReadOnlyList<ChatMessage> messages, string executionId)
    {
        try
        {
            return await CachedOrAskedAsync(key, messages, executionId).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new Answered(key, new LlmReply(false, null, "enrichment failed: " + ex.Message, 0, 0, 0), Cached: false);
        }
    }

    private async Task<Answered> CachedOrAskedAsync(CacheKey key, IReadOnlyList<ChatMessage> messages, string executionId)
    {
        using (var db = _db.Open())
        {
            var cached = db.GetTable<EnrichmentRow>().FirstOrDefault(r => r.Fingerprint == key.Fingerprint && r.PlaybookId == key.PlaybookId
                && r.PlaybookVersion == key.PlaybookVersion && r.Type == key.Type && r.Model == key.Model);
            if (cached is not null) return new Answered(key, new LlmReply(true, cached.Text, null, cached.PromptTokens, cached.CompletionTokens, 0), Cached: true);
        }
        var reply = await _client.CompleteAsync(messages, CancellationToken.None).ConfigureAwait(false);
        if (reply.Ok)
        {
            using var db = _db.Open();
            await db.InsertOrReplaceAsync(new EnrichmentRow
            {
                Fingerprint = key.Fingerprint, PlaybookId = key.PlaybookId, PlaybookVersion = key.PlaybookVersion, Type = key.Type, Model = key.Model,
                Text = reply.Text!, PromptTokens = reply.PromptTokens, CompletionTokens = reply.CompletionTokens, FirstExecutionId = executionId,
                CreatedAt = _time.GetUtcNow(),
            }).ConfigureAwait(false);
        }
        return new Answered(key, reply, Cached: false);
    }

    private void OnAnswer(Answered a)
    {
        if (_waiting.Remove(a.Key.ToString(), out var executions)) Attach(executions, a.Key.Type, a.Key.Model, a.Reply, a.Cached);
    }

    /// <summary>Attaches one answer to the executions waiting for it; the tokens count once, on the first of them, when the model was asked.</summary>
    private void Attach(List<string> executions, string type, string model, LlmReply r, bool cached)
    {
        if (!r.Ok)
        {
            // Said once per distinct reason at warning level (a missing key would otherwise warn for every execution).
            if (_reportedReasons.Add(r.Unavailable!)) _log.Warning("Enrichment unavailable ({0}): {1}; executions proceed without it", type, r.Unavailable);
            else _log.Debug("Enrichment unavailable ({0}): {1}", type, r.Unavailable);
        }
        for (var i = 0; i < executions.Count; i++)
        {
            var attached = new EnrichmentAttached(type, r.Ok ? "ready" : "unavailable", r.Text, r.Unavailable, model, cached || i > 0,
                i == 0 && !cached ? r.PromptTokens : 0, i == 0 && !cached ? r.CompletionTokens : 0, _time.GetUtcNow());
            _executions.Tell(new AttachEnrichment(executions[i], attached));
        }
    }

    private sealed record CacheKey(string Fingerprint, string PlaybookId, string PlaybookVersion, string Type, string Model)
    {
        public override string ToString() => $"{Fingerprint}|{PlaybookId}|{PlaybookVersion}|{Type}|{Model}";
    }

    private sealed record Answered(CacheKey Key, LlmReply Reply, bool Cached);
}
