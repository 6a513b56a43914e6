using System.Net.Sockets;
using System.Text.Json.Nodes;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Domain.Alerts;

namespace RunbookPilot.Domain.Policy;

/// <summary>The parameters a call will be sent with (targets in canonical spelling), and why it must not be sent, or null.</summary>
public sealed record GuardResult(JsonObject Parameters, string? Refusal, IReadOnlyList<CanonicalTarget> Targets);

/// <summary>
/// The allow-list, on canonical targets, for every state-changing action an adapter descriptor declares (built-in and
/// plugin alike): each target parameter is parsed strictly (<see cref="Targets"/>) and replaced by its canonical text,
/// which is what the vendor receives. An invalid target, a protected IP / network / host / user / domain, a network
/// that overlaps a protected one, <c>0.0.0.0/0</c>, <c>::/0</c> or a network broader than the policy's limit is refused.
/// Read-only actions pass unchanged. Releasing actions (unblock, lift containment; <see cref="ActionDescriptor.Releases"/>)
/// are canonicalised too (the undo must name what was blocked) but not refused: lifting a restriction never harms a
/// protected target. Whether a call is a rollback does not matter: a rollback that restricts is checked like any step.
/// </summary>
public static class TargetGuard
{
    public static GuardResult Check(ActionDescriptor? action, JsonObject parameters, GlobalPolicy policy)
    {
        if (action is null) return new GuardResult(parameters, "unknown action: refused before any call", []);
        if (!action.ChangesState) return new GuardResult(parameters, null, []);
        var canonical = (JsonObject)parameters.DeepClone();
        var targets = new List<CanonicalTarget>();
        foreach (var (name, kind) in action.TargetParams)
        {
            var node = canonical[name];
            if (node is null) continue;
            var values = node is JsonArray array ? array.ToList() : [node];
            var written = new JsonArray();
            foreach (var value in values)
            {
                if (AlertFields.AsText(value) is not { } text || value is JsonObject or JsonArray)
                    return new GuardResult(parameters, $"parameter '{name}' must be a {Targets.Name(kind)}; {action.Name} refused before any call", targets);
                if (text.Length == 0) continue;
                if (!Targets.TryParse(kind, text, out var target, out var error))
                    return new GuardResult(parameters, $"parameter '{name}': {error}; {action.Name} refused before any call", targets);
                targets.Add(target);
                written.Add(target.Text);
            }
            canonical[name] = node is JsonArray ? written : written.Count > 0 ? written[0]!.DeepClone() : node.DeepClone();
        }
        if (action.Protects)
            foreach (var target in targets)
                if (Protected(target, policy) is { } why)
                    return new GuardResult(canonical, $"{why}; {action.Name} refused before any call", targets);
        return new GuardResult(canonical, null, targets);
    }

    /// <summary>Why the policy protects <paramref name="target"/> (allow-list or network breadth), or null.</summary>
    public static string? Protected(CanonicalTarget target, GlobalPolicy policy)
    {
        var allow = policy.AllowList;
        if (target.Address is { } ip)
        {
            if (allow.Ips.FirstOrDefault(a => Targets.ParseAddress(a) is { } p && p.Equals(ip)) is { } listed)
                return $"{target.Text} is on the global policy allow-list (allow_list.ips: {listed})";
            foreach (var cidr in allow.Cidrs)
                if (Targets.ParseNetwork(cidr, out var network, out _) && network.Contains(ip))
                    return $"{target.Text} is inside allow-listed network {cidr} (allow_list.cidrs)";
        }
        if (target.Network is { } net)
        {
            var v4 = net.BaseAddress.AddressFamily == AddressFamily.InterNetwork;
            var limit = v4 ? policy.Targets.Ipv4MinPrefix : policy.Targets.Ipv6MinPrefix;
            if (net.PrefixLength == 0) return $"{target.Text} is every address; blocking it is refused outright";
            if (net.PrefixLength < limit)
                return $"{target.Text} is broader than /{limit} (global policy targets.{(v4 ? "ipv4" : "ipv6")}_min_prefix)";
            if (allow.Ips.FirstOrDefault(a => Targets.ParseAddress(a) is { } p && net.Contains(p)) is { } inside)
                return $"{target.Text} contains allow-listed address {inside} (allow_list.ips)";
            foreach (var cidr in allow.Cidrs)
                if (Targets.ParseNetwork(cidr, out var network, out _) && Targets.Overlap(network, net))
                    return $"{target.Text} overlaps allow-listed network {cidr} (allow_list.cidrs)";
        }
        switch (target.Kind)
        {
            case TargetKind.Host when allow.Hosts.FirstOrDefault(h => SameHost(h, target)) is { } host:
                return $"host {target.Text} is on the global policy allow-list (allow_list.hosts: {host})";
            case TargetKind.User or TargetKind.Email when allow.Users.FirstOrDefault(u => Targets.UserPart(u) == target.ShortName) is { } user:
                return $"user {target.Text} is on the global policy allow-list (allow_list.users: {user})";
            case TargetKind.Domain or TargetKind.Email when allow.Domains.FirstOrDefault(d => InDomain(target, d)) is { } domain:
                return $"{target.Text} is in allow-listed domain {domain} (allow_list.domains)";
        }
        return null;
    }

    /// <summary>
    /// Same host, as a resolver with search domains would see it: one name's labels begin the other's (dc01 =
    /// DC01.corp.example, dc01.corp = dc01.corp.example), case-insensitively. Addresses compare as addresses.
    /// </summary>
    private static bool SameHost(string listed, CanonicalTarget target)
    {
        if (!Targets.TryParse(TargetKind.Host, listed, out var entry, out _)) return false;
        if (entry.Address is not null || target.Address is not null) return entry.Address is not null && entry.Address.Equals(target.Address);
        var a = entry.Text.ToLowerInvariant().Split('.');
        var b = target.Text.ToLowerInvariant().Split('.');
        var shorter = Math.Min(a.Length, b.Length);
        return a.Take(shorter).SequenceEqual(b.Take(shorter));
    }

    private static bool InDomain(CanonicalTarget target, string listed)
    {
        var domain = listed.Trim().TrimEnd('.').ToLowerInvariant();
        var name = (target.Kind == TargetKind.Email ? target.Text[(target.Text.LastIndexOf('@') + 1)..] : target.Text).ToLowerInvariant();
        return name == domain || name.EndsWith("." + domain, StringComparison.Ordinal);
    }
}
