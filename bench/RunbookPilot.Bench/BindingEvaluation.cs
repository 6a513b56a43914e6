using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Bindings;
using RunbookPilot.Domain.Playbooks;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Bench;

/// <summary>
/// Issue 6: binding evaluation latency (p50/p99) per alert with 10,000 bindings — bound to rules (most), to tags, to
/// alert types and severities, and a few global ones — every one with guardrails; each decision is applied as the
/// intake applies it (token buckets, quotas and in-flight sets change as the run goes on).
/// </summary>
public static class BindingEvaluation
{
    public static int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var playbook = PlaybookLoader.Parse(
            "id: enrich\nname: Enrich\nversion: 1.0.0\nautonomy_level: L0\ntrigger:\n  techniques: [T1071]\nsteps:\n  - { id: s, name: s, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: { ip: \"{{source.ip}}\" } }\n",
            "enrich.yaml").Value!;
        var book = new BindingBook();
        var severities = Enum.GetValues<AlertSeverity>();
        for (var i = 1; i <= count; i++)
        {
            var match = (i % 100) switch
            {
                < 85 => new BindingMatch { RuleIds = [$"rule-{i}"], Severities = [severities[i % 4]] },
                < 93 => new BindingMatch { Tags = [$"tag-{i % 500}", "prod"] },
                < 99 => new BindingMatch { AlertTypes = [$"type-{i % 50}"], Severities = [severities[i % 4]] },
                _ => i <= 1000 ? new BindingMatch() : new BindingMatch { RuleIds = [$"rule-{i}"] }, // ten global bindings
            };
            var mode = (BindingMode)(i % 3);
            book.Save(new PlaybookBinding(i, new BindingSpec
            {
                Id = i, PlaybookId = "enrich", Mode = mode, Match = match, Priority = i % 7,
                Guardrails = new GuardrailSpec { MaxPerMinute = 30, MaxConcurrent = 5, DailyQuota = 1000, Key = i % 2 == 0 ? "host.name" : null },
            }, "bench", DateTimeOffset.UnixEpoch, "bench", DateTimeOffset.UnixEpoch));
        }
        var alerts = Enumerable.Range(0, 5000).Select(i =>
        {
            var doc = new JsonObject
            {
                ["event"] = new JsonObject { ["id"] = $"a{i}", ["category"] = new JsonArray($"type-{i % 60}"), ["severity"] = severities[i % 4].ToString().ToLowerInvariant() },
                ["rule"] = new JsonObject { ["id"] = $"rule-{i * 7 % (count + 2000)}" },
                ["host"] = new JsonObject { ["name"] = $"host-{i % 300}" },
                ["tags"] = new JsonArray($"tag-{i % 700}", "prod"),
            };
            return new Alert($"a{i}", doc, "ecs");
        }).ToArray();

        Playbook? Find(string id) => id == playbook.Id ? playbook : null;
        var now = new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 20_000; i++) book.Evaluate(alerts[i % alerts.Length], [], Find, now); // warm-up, no state change
        const int runs = 100_000;
        var samples = new double[runs];
        var decisions = 0L;
        for (var i = 0; i < runs; i++)
        {
            var alert = alerts[i % alerts.Length];
            var at = now.AddMilliseconds(i * 10); // 100 alerts per second of simulated time
            var start = Stopwatch.GetTimestamp();
            var result = book.Evaluate(alert, [], Find, at);
            foreach (var d in result) book.Apply(d, alert);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            decisions += result.Count;
            foreach (var run in result.Where(d => d.StartsExecution && i % 2 == 0)) book.End(run.ExecutionId!); // half the runs end at once
        }
        Array.Sort(samples);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bindings={count} alerts={runs} decisions_per_alert={decisions / (double)runs:F2} p50_us={samples[runs / 2]:F1} p99_us={samples[(int)(runs * 0.99)]:F1} max_us={samples[^1]:F1}"));
        return 0;
    }
}
