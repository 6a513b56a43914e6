using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RunbookPilot.Domain.Alerts;

namespace RunbookPilot.Domain.Attack;

/// <summary>One ATT&amp;CK (enterprise) technique: id, name, tactics and its page. Facts only — no model involved.</summary>
public sealed record AttackTechnique(string Id, string Name, IReadOnlyList<string> Tactics)
{
    public string Url => $"https://attack.mitre.org/techniques/{Id.Replace('.', '/')}/";
}

/// <summary>
/// The built-in, offline ATT&amp;CK catalogue: the techniques SOC playbooks and the bundled Sigma rules name most, so every
/// approval shows at least the technique's name and tactic without any model. A sub-technique not listed falls back
/// to its parent's name and tactics.
/// </summary>
public static partial class AttackCatalog
{
    /// <summary>The techniques an alert names (sub-techniques first) and those of the playbook's trigger, with their
    /// catalogue facts; at most eight. The dashboard, the CLI, the read model and the prompt builder all show these.</summary>
    public static IReadOnlyList<AttackTechnique> For(JsonObject alert, IEnumerable<string>? trigger) =>
        AlertFields.Texts(alert, "threat.technique.subtechnique.id").Concat(AlertFields.Texts(alert, "threat.technique.id"))
            .Concat(trigger ?? [])
            .Where(t => TechniqueId().IsMatch(t)).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(t => Find(t) ?? new AttackTechnique(t.ToUpperInvariant(), "(not in the offline catalogue)", [])).Take(8).ToList();

    [GeneratedRegex(@"^T\d{4}(\.\d{3})?$", RegexOptions.IgnoreCase)]
    private static partial Regex TechniqueId();

    private static readonly Dictionary<string, AttackTechnique> ById = Build().ToDictionary(t => t.Id, StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyCollection<AttackTechnique> All => ById.Values;

    /// <summary>The technique, or for an unlisted sub-technique its parent (named "Parent: sub-technique T…"), or null.</summary>
    public static AttackTechnique? Find(string id)
    {
        if (ById.TryGetValue(id, out var t)) return t;
        var dot = id.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && ById.TryGetValue(id[..dot], out var parent) ? new AttackTechnique(id.ToUpperInvariant(), $"{parent.Name}: sub-technique {id.ToUpperInvariant()}", parent.Tactics) : null;
    }

    private static IEnumerable<AttackTechnique> Build()
    {
        const string Ia = "Initial Access", Ex = "Execution", Pe = "Persistence", Pr = "Privilege Escalation", De = "Defense Evasion", Ca = "Credential Access",
            Di = "Discovery", Lm = "Lateral Movement", Co = "Collection", C2 = "Command and Control", Xf = "Exfiltration", Im = "Impact", Re = "Reconnaissance";
        (string, string, string[])[] rows =
        [
            ("T1003", "OS Credential Dumping", [Ca]),
            ("T1003.001", "OS Credential Dumping: LSASS Memory", [Ca]),
            ("T1003.002", "OS Credential Dumping: Security Account Manager", [Ca]),
            ("T1003.003", "OS Credential Dumping: NTDS", [Ca]),
            ("T1003.004", "OS Credential Dumping: LSA Secrets", [Ca]),
            ("T1003.005", "OS Credential Dumping: Cached Domain Credentials", [Ca]),
            ("T1003.006", "OS Credential Dumping: DCSync", [Ca]),
            ("T1021", "Remote Services", [Lm]),
            ("T1021.001", "Remote Services: Remote Desktop Protocol", [Lm]),
            ("T1021.002", "Remote Services: SMB/Windows Admin Shares", [Lm]),
            ("T1021.004", "Remote Services: SSH", [Lm]),
            ("T1021.006", "Remote Services: Windows Remote Management", [Lm]),
            ("T1570", "Lateral Tool Transfer", [Lm]),
            ("T1071", "Application Layer Protocol", [C2]),
            ("T1071.001", "Application Layer Protocol: Web Protocols", [C2]),
            ("T1071.004", "Application Layer Protocol: DNS", [C2]),
            ("T1572", "Protocol Tunneling", [C2]),
            ("T1090", "Proxy", [C2]),
            ("T1090.003", "Proxy: Multi-hop Proxy", [C2]),
            ("T1102", "Web Service", [C2]),
            ("T1105", "Ingress Tool Transfer", [C2]),
            ("T1568", "Dynamic Resolution", [C2]),
            ("T1568.002", "Dynamic Resolution: Domain Generation Algorithms", [C2]),
            ("T1573", "Encrypted Channel", [C2]),
            ("T1219", "Remote Access Software", [C2]),
            ("T1036", "Masquerading", [De]),
            ("T1027", "Obfuscated Files or Information", [De]),
            ("T1070", "Indicator Removal", [De]),
            ("T1070.001", "Indicator Removal: Clear Windows Event Logs", [De]),
            ("T1112", "Modify Registry", [De]),
            ("T1218", "System Binary Proxy Execution", [De]),
            ("T1562", "Impair Defenses", [De]),
            ("T1562.001", "Impair Defenses: Disable or Modify Tools", [De]),
            ("T1055", "Process Injection", [De, Pr]),
            ("T1078", "Valid Accounts", [De, Pe, Pr, Ia]),
            ("T1134", "Access Token Manipulation", [De, Pr]),
            ("T1548", "Abuse Elevation Control Mechanism", [Pr, De]),
            ("T1548.002", "Abuse Elevation Control Mechanism: Bypass User Account Control", [Pr, De]),
            ("T1068", "Exploitation for Privilege Escalation", [Pr]),
            ("T1543", "Create or Modify System Process", [Pe, Pr]),
            ("T1543.003", "Create or Modify System Process: Windows Service", [Pe, Pr]),
            ("T1547", "Boot or Logon Autostart Execution", [Pe, Pr]),
            ("T1547.001", "Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder", [Pe, Pr]),
            ("T1053", "Scheduled Task/Job", [Ex, Pe, Pr]),
            ("T1053.005", "Scheduled Task/Job: Scheduled Task", [Ex, Pe, Pr]),
            ("T1136", "Create Account", [Pe]),
            ("T1136.001", "Create Account: Local Account", [Pe]),
            ("T1136.002", "Create Account: Domain Account", [Pe]),
            ("T1098", "Account Manipulation", [Pe, Pr]),
            ("T1505.003", "Server Software Component: Web Shell", [Pe]),
            ("T1059", "Command and Scripting Interpreter", [Ex]),
            ("T1059.001", "Command and Scripting Interpreter: PowerShell", [Ex]),
            ("T1059.003", "Command and Scripting Interpreter: Windows Command Shell", [Ex]),
            ("T1059.004", "Command and Scripting Interpreter: Unix Shell", [Ex]),
            ("T1047", "Windows Management Instrumentation", [Ex]),
            ("T1569", "System Services", [Ex]),
            ("T1569.002", "System Services: Service Execution", [Ex]),
            ("T1204", "User Execution", [Ex]),
            ("T1204.002", "User Execution: Malicious File", [Ex]),
            ("T1203", "Exploitation for Client Execution", [Ex]),
            ("T1110", "Brute Force", [Ca]),
            ("T1110.001", "Brute Force: Password Guessing", [Ca]),
            ("T1110.003", "Brute Force: Password Spraying", [Ca]),
            ("T1558", "Steal or Forge Kerberos Tickets", [Ca]),
            ("T1558.003", "Steal or Forge Kerberos Tickets: Kerberoasting", [Ca]),
            ("T1552", "Unsecured Credentials", [Ca]),
            ("T1555", "Credentials from Password Stores", [Ca]),
            ("T1557", "Adversary-in-the-Middle", [Ca, Co]),
            ("T1087", "Account Discovery", [Di]),
            ("T1082", "System Information Discovery", [Di]),
            ("T1083", "File and Directory Discovery", [Di]),
            ("T1016", "System Network Configuration Discovery", [Di]),
            ("T1018", "Remote System Discovery", [Di]),
            ("T1046", "Network Service Discovery", [Di]),
            ("T1057", "Process Discovery", [Di]),
            ("T1069", "Permission Groups Discovery", [Di]),
            ("T1482", "Domain Trust Discovery", [Di]),
            ("T1005", "Data from Local System", [Co]),
            ("T1039", "Data from Network Shared Drive", [Co]),
            ("T1056", "Input Capture", [Co, Ca]),
            ("T1113", "Screen Capture", [Co]),
            ("T1114", "Email Collection", [Co]),
            ("T1560", "Archive Collected Data", [Co]),
            ("T1041", "Exfiltration Over C2 Channel", [Xf]),
            ("T1048", "Exfiltration Over Alternative Protocol", [Xf]),
            ("T1048.003", "Exfiltration Over Alternative Protocol: Exfiltration Over Unencrypted Non-C2 Protocol", [Xf]),
            ("T1567", "Exfiltration Over Web Service", [Xf]),
            ("T1567.002", "Exfiltration Over Web Service: Exfiltration to Cloud Storage", [Xf]),
            ("T1486", "Data Encrypted for Impact", [Im]),
            ("T1489", "Service Stop", [Im]),
            ("T1490", "Inhibit System Recovery", [Im]),
            ("T1485", "Data Destruction", [Im]),
            ("T1498", "Network Denial of Service", [Im]),
            ("T1190", "Exploit Public-Facing Application", [Ia]),
            ("T1133", "External Remote Services", [Pe, Ia]),
            ("T1566", "Phishing", [Ia]),
            ("T1566.001", "Phishing: Spearphishing Attachment", [Ia]),
            ("T1566.002", "Phishing: Spearphishing Link", [Ia]),
            ("T1189", "Drive-by Compromise", [Ia]),
            ("T1595", "Active Scanning", [Re]),
        ];
        return rows.Select(r => new AttackTechnique(r.Item1, r.Item2, r.Item3));
    }
}
