namespace RunbookPilot.Domain.Core;

/// <summary>The ATT&amp;CK enterprise tactics, by id and name; Sigma tags name them in either spelling (v1 '_' or v2 '-').</summary>
public static class Tactics
{
    public static IReadOnlyList<(string Id, string Name, string SigmaTag)> All { get; } =
    [
        ("TA0043", "Reconnaissance", "reconnaissance"),
        ("TA0042", "Resource Development", "resource-development"),
        ("TA0001", "Initial Access", "initial-access"),
        ("TA0002", "Execution", "execution"),
        ("TA0003", "Persistence", "persistence"),
        ("TA0004", "Privilege Escalation", "privilege-escalation"),
        ("TA0005", "Defense Evasion", "defense-evasion"),
        ("TA0006", "Credential Access", "credential-access"),
        ("TA0007", "Discovery", "discovery"),
        ("TA0008", "Lateral Movement", "lateral-movement"),
        ("TA0009", "Collection", "collection"),
        ("TA0011", "Command and Control", "command-and-control"),
        ("TA0010", "Exfiltration", "exfiltration"),
        ("TA0040", "Impact", "impact"),
    ];

    /// <summary>The tactic name for a Sigma tag value such as <c>lateral_movement</c> or <c>lateral-movement</c>, else null.</summary>
    public static string? FromSigmaTag(string tag)
    {
        var normalized = tag.Replace('_', '-').ToLowerInvariant();
        foreach (var t in All)
            if (t.SigmaTag == normalized) return t.Name;
        return null;
    }
}
