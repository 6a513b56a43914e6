using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Alerts;
using RunbookPilot.Domain.Matching;
using RunbookPilot.Domain.Playbooks;

namespace RunbookPilot.Bench;

/// <summary>
/// Issue 3: playbook selection latency (p50/p99) with 1,000 playbooks loaded: technique-triggered playbooks with
/// conditions spread over 200 techniques, condition-only playbooks, and a Sigma index; alerts of every kind.
/// </summary>
public static class SelectionLatency
{
    public static int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var playbooks = new List<Playbook>();
        for (var i = 0; i < count; i++)
        {
            var technique = $"T{1000 + i % 200}" + (i % 3 == 0 ? $".{i % 7 + 1:D3}" : "");
            var trigger = i % 10 == 9
                ? $"trigger:\n  match: any\n  conditions:\n    - {{ field: host.name, operator: equals, value: host-{i} }}\n    - {{ field: destination.ip, operator: cidr, value: 10.{i % 250}.0.0/16 }}\n"
                : $"trigger:\n  techniques: [{technique}]\n  conditions:\n    - {{ field: event.category, operator: in, value: [network, intrusion_detection] }}\n    - {{ field: process.name, operator: regex, value: '^(cmd|powershell)\\.exe$' }}\n  match: any\n";
            var yaml = $"id: pb_{i}\nname: P{i}\nversion: 1.0.0\nautonomy_level: L0\n{trigger}steps:\n  - {{ id: s, name: s, action_type: lookup_ip, adapter: virustotal, autonomy_level: L0, params: {{ ip: \"{{{{source.ip}}}}\" }} }}\n";
            var result = PlaybookLoader.Parse(yaml, $"pb_{i}.yaml");
            playbooks.Add(result.Value ?? throw new InvalidOperationException(string.Join("\n", result.Errors)));
        }
        var sigma = new SigmaIndex(Enumerable.Range(0, 500).Select(i => new SigmaRule($"rule-{i}", "r", "r.yml", "high", [$"T{1000 + i % 200}"], [], i % 2 == 0 ? $"pb_{i}" : null, "high", [])), []);
        var selector = new PlaybookSelector(playbooks, sigma);

        var alerts = Enumerable.Range(0, 2000).Select(i =>
        {
            var t = 1000 + i % 200;
            var doc = new JsonObject { ["event"] = new JsonObject { ["id"] = $"a{i}", ["category"] = new JsonArray("network") } };
            switch (i % 4)
            {
                case 0:
                    doc["source"] = new JsonObject { ["ip"] = $"203.0.113.{i % 250}" };
                    doc["threat"] = new JsonObject { ["technique"] = new JsonObject { ["id"] = $"T{t}", ["subtechnique"] = new JsonObject { ["id"] = $"T{t}.00{i % 7 + 1}" } } };
                    break;
                case 1:
                    doc["rule"] = new JsonObject { ["id"] = $"rule-{i % 500}" };
                    break;
                case 2:
                    doc["host"] = new JsonObject { ["name"] = $"host-{i % 1000}" };
                    doc["destination"] = new JsonObject { ["ip"] = $"10.{i % 250}.3.4" };
                    break;
                default:
                    doc["process"] = new JsonObject { ["name"] = "cmd.exe" };
                    doc["threat"] = new JsonObject { ["technique"] = new JsonObject { ["id"] = $"T{t}" } };
                    break;
            }
            return AlertNormalizers.Default.Normalize(doc);
        }).ToArray();

        for (var i = 0; i < 20_000; i++) selector.Select(alerts[i % alerts.Length]); // warm-up
        const int runs = 100_000;
        var samples = new double[runs];
        var matched = 0L;
        for (var i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            matched += selector.Select(alerts[i % alerts.Length]).Count;
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(samples);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"playbooks={count} selections={runs} matches_per_alert={matched / (double)runs:F2} p50_us={samples[runs / 2]:F1} p99_us={samples[(int)(runs * 0.99)]:F1} max_us={samples[^1]:F1}"));
        return 0;
    }
}
