namespace RunbookPilot.Engine.Tests.Playbooks;

/// <summary>A small valid playbook that tests mutate.</summary>
public static class Samples
{
    public const string Valid = """
        id: sample
        name: Sample
        version: 1.2.3
        autonomy_level: L1
        trigger:
          techniques: [T1021.001]
        steps:
          - id: lookup
            name: Reputation
            action_type: query
            adapter: virustotal
            autonomy_level: L0
            params:
              resource: "{{source.ip}}"
          - id: block
            name: Block
            action_type: block_ip
            adapter: paloalto
            autonomy_level: L1
            rollback_available: true
            params:
              ip: "{{source.ip}}"
              tag: "AUTO_{{execution_id}}_{{steps.lookup.output.malicious}}"
        rollback:
          block:
            action_type: unblock_ip
            adapter: paloalto
            params:
              ip: "{{source.ip}}"
        """;
}
