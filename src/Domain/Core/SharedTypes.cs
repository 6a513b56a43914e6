namespace RunbookPilot.Domain.Core;

/// <summary>An alert's severity, as playbook triggers, bindings and alerts spell it.</summary>
public enum AlertSeverity { Low, Medium, High, Critical }

/// <summary>Why a step waits for a person: an L1 action, the policy's training mode, or a promoted simulation.</summary>
public enum ApprovalReason { L1Action, PolicyRequireApproval, SimulationPromoted }

/// <summary>
/// A message that may cross from one node of a cluster to another (to an execution's shard, a singleton, or back as an
/// answer). The engine's remote serializer writes these as JSON under their type name and reads back only types that
/// carry this marker, so a peer cannot make a node build anything else.
/// </summary>
public interface IClusterMessage;
