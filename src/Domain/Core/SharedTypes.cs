namespace RunbookPilot.Domain.Core;

/// <summary>An alert's severity, as playbook triggers, bindings and alerts spell it.</summary>
public enum AlertSeverity { Low, Medium, High, Critical }

/// <summary>Why a step waits for a person: an L1 action, the policy's training mode, or a promoted simulation.</summary>
public enum ApprovalReason { L1Action, PolicyRequireApproval, SimulationPromoted }
