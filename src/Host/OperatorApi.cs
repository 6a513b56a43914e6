using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Engine.Hosting;
using Serilog.Core;
using Serilog.Events;

namespace RunbookPilot.Host;

/// <summary>
/// The operator API behind <c>runbookpilot ops …</c> (Petabridge.Cmd is not available here): cluster members, leave and
/// down, the execution shards, the top-level actors, executions with open work, and the server's recent log. Admin only.
/// </summary>
public static class OperatorApi
{
    private static readonly string[] ActorRoots = ["/user/*", "/system/*", "/system/sharding/*"];

    public static void Map(RouteGroupBuilder api, RecentLog log)
    {
        var ops = api.MapGroup("/ops").AddEndpointFilter<AdminOnly>();
        ops.MapGet("/cluster", async (RunbookPilotEngine engine, IRequiredActor<ExecutionRegion> region, CancellationToken ct) =>
        {
            var cluster = Cluster.Get(engine.System);
            var state = cluster.State;
            // Each member's execution shards and live entities, asked of every region (a member that does not answer in
            // time shows no figures rather than holding the answer up).
            IReadOnlyDictionary<Address, ShardRegionStats> stats;
            try
            {
                stats = (await region.ActorRef.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(3)), TimeSpan.FromSeconds(5), ct)).Regions;
            }
            catch (AskTimeoutException)
            {
                stats = new Dictionary<Address, ShardRegionStats>();
            }
            return Results.Json(new JsonObject
            {
                ["self"] = cluster.SelfAddress.ToString(),
                ["leader"] = state.Leader?.ToString(),
                ["members"] = new JsonArray([.. state.Members.Select(m => (JsonNode)new JsonObject
                {
                    ["address"] = m.Address.ToString(), ["status"] = m.Status.ToString().ToLowerInvariant(), ["roles"] = new JsonArray([.. m.Roles.Select(r => (JsonNode)r)]),
                    ["reachable"] = !state.Unreachable.Contains(m),
                    ["shards"] = stats.TryGetValue(m.Address, out var s) ? s.Stats.Count : null,
                    ["entities"] = stats.TryGetValue(m.Address, out var e) ? e.Stats.Values.Sum() : null,
                })]),
            });
        });
        ops.MapPost("/cluster/leave", (RunbookPilotEngine engine, string? address) =>
        {
            var cluster = Cluster.Get(engine.System);
            if (address is not null && !TryAddress(address, out _)) return BadAddress(address);
            var target = address is null ? cluster.SelfAddress : Address.Parse(address);
            cluster.Leave(target);
            return Results.Json(new { leaving = target.ToString() });
        });
        ops.MapPost("/cluster/down", (RunbookPilotEngine engine, string? address) =>
        {
            if (!TryAddress(address, out var target)) return BadAddress(address);
            Cluster.Get(engine.System).Down(target);
            return Results.Json(new { downed = target.ToString() });
        });
        ops.MapGet("/shards", async (IRequiredActor<ExecutionRegion> region, CancellationToken ct) =>
        {
            var state = await region.ActorRef.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), ct);
            return Results.Json(new JsonObject
            {
                ["region"] = "execution",
                ["shards"] = new JsonArray([.. state.Shards.OrderBy(s => s.ShardId, StringComparer.Ordinal).Select(s => (JsonNode)new JsonObject
                {
                    ["shard"] = s.ShardId, ["entities"] = s.EntityIds.Count,
                })]),
                ["entities"] = state.Shards.Sum(s => s.EntityIds.Count),
                ["failed"] = new JsonArray([.. state.Failed.Select(f => (JsonNode)f)]),
            });
        });
        ops.MapGet("/actors", async (RunbookPilotEngine engine, CancellationToken ct) =>
        {
            // Every top-level actor under /user and /system answers Identify; the ones that answer within 300 ms per root are listed.
            var found = new List<string>();
            foreach (var root in ActorRoots)
            {
                using var inbox = Inbox.Create(engine.System);
                engine.System.ActorSelection(root).Tell(new Identify(null), inbox.Receiver);
                var until = DateTime.UtcNow.AddMilliseconds(300);
                while (DateTime.UtcNow < until)
                {
                    try
                    {
                        if (await inbox.ReceiveAsync(until - DateTime.UtcNow) is ActorIdentity { Subject: { } subject }) found.Add(subject.Path.ToStringWithoutAddress());
                    }
                    catch (TimeoutException)
                    {
                        break;
                    }
                }
            }
            return Results.Json(new JsonObject { ["actors"] = new JsonArray([.. found.Distinct().Order(StringComparer.Ordinal).Select(a => (JsonNode)a)]) });
        });
        ops.MapGet("/executions", async (RunbookPilotEngine engine, CancellationToken ct) =>
        {
            var open = engine.Queries.OpenExecutionIds();
            return Results.Json(new JsonObject
            {
                ["open_executions"] = open.Count,
                ["execution_ids"] = new JsonArray([.. open.Take(200).Select(id => (JsonNode)id)]),
                ["alerts_waiting_for_executions"] = await engine.Alerts.BacklogAsync(ct),
                ["projector_lag_events"] = (await engine.Read.PositionAsync(ct)).Lag,
            });
        });
        ops.MapGet("/effects", async (RunbookPilotEngine engine, CancellationToken ct) => Results.Json(new JsonObject
        {
            ["effects"] = new JsonArray([.. (await engine.Effects.HoldsAsync([], ct)).Holds.Select(h => (JsonNode)new JsonObject
            {
                ["adapter"] = h.Key.Adapter, ["action"] = h.Key.Action, ["target"] = h.Key.Target, ["effect"] = h.Key.ToString(),
                ["execution_id"] = h.Hold.ExecutionId, ["step_id"] = h.Hold.StepId, ["state"] = h.Hold.State.ToString().ToLowerInvariant(), ["since"] = h.Hold.Since,
            })]),
        }));
        ops.MapPost("/effects/forget", async (HttpContext c, RunbookPilotEngine engine, ForgetBody body, CancellationToken ct) =>
            Results.Json(new JsonObject
            {
                ["message"] = await engine.Effects.ForgetAsync(new Domain.Effects.EffectKey(body.Adapter, body.Action, body.Target), body.ExecutionId, body.StepId,
                    Http.Analyst(c), ct),
            }));
        ops.MapGet("/log", (int? lines) => Results.Json(new JsonObject
        {
            ["lines"] = new JsonArray([.. log.Last(Math.Clamp(lines ?? 100, 1, RecentLog.Capacity)).Select(l => (JsonNode)l)]),
        }));
    }

    private static bool TryAddress(string? text, out Address address)
    {
        address = Address.AllSystems;
        if (string.IsNullOrWhiteSpace(text)) return false;
        try
        {
            address = Address.Parse(text);
            return address.HasGlobalScope;
        }
        catch (UriFormatException)
        {
            return false;
        }
    }

    private static IResult BadAddress(string? text) =>
        Results.Json(new { error = "malformed request", details = new[] { new { path = "address", message = $"'{text}' is not a node address such as akka.tcp://runbookpilot@10.0.0.5:4053" } } },
            statusCode: 400);
}

/// <summary>The server's last log lines, for <c>runbookpilot ops log</c> (secrets are redacted before anything is logged).</summary>
public sealed class RecentLog : ILogEventSink
{
    public const int Capacity = 1000;
    private readonly ConcurrentQueue<string> _lines = new();

    public void Emit(LogEvent logEvent)
    {
        _lines.Enqueue($"{logEvent.Timestamp:u} {logEvent.Level.ToString()[..3].ToUpperInvariant()} {logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)}"
            + (logEvent.Exception is { } ex ? " — " + ex.GetType().Name + ": " + ex.Message : ""));
        while (_lines.Count > Capacity) _lines.TryDequeue(out _);
    }

    public IReadOnlyList<string> Last(int count) => _lines.ToArray().TakeLast(count).ToList();
}

/// <summary>Body of <c>POST /api/v1/ops/effects/forget</c>: the effect (as <c>GET /api/v1/ops/effects</c> lists it) and the hold to drop.</summary>
public sealed record ForgetBody(string Adapter, string Action, string Target, string ExecutionId, string StepId);
