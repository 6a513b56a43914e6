using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Domain.Alerts;

/// <summary>
/// Microsoft Sentinel alerts and incidents, mapped to ECS. Reads three shapes:
/// <list type="bullet">
/// <item>a <c>SecurityAlert</c> table row (Log Analytics columns: <c>SystemAlertId</c>, <c>AlertName</c>, <c>AlertSeverity</c>,
/// <c>TimeGenerated</c>, <c>Tactics</c> as a comma-separated string, <c>Techniques</c>/<c>SubTechniques</c> as JSON-array strings,
/// <c>Entities</c> and <c>ExtendedProperties</c> as JSON strings), which is also the body of the Logic Apps alert trigger;</item>
/// <item>the incident trigger of an automation rule / Logic App (<c>{"object": {"properties": {...}}}</c>), with
/// <c>additionalData.tactics</c>/<c>techniques</c>, <c>relatedAnalyticRuleIds</c>, <c>alerts[].properties</c> and <c>relatedEntities</c>;</item>
/// <item>an incident or alert resource from the Azure REST API (<c>{"properties": {...}}</c>).</item>
/// </list>
/// Entities carry no role, so an IP address only becomes <c>source.ip</c>/<c>destination.ip</c> when Sentinel says which end it is:
/// a <c>Custom Details</c> key with an ASIM field name (<c>SrcIpAddr</c>, <c>DstIpAddr</c>/<c>TargetIpAddr</c>, <c>SrcHostname</c>,
/// <c>DnsQuery</c>) or the querying host / server of a DNS entity. Every IP, host, account and hash entity is also listed under
/// <c>related.*</c>. <c>@timestamp</c> is when the detected activity started (<c>StartTime</c>, an incident's <c>firstActivityTimeUtc</c>)
/// and <c>event.created</c> when Sentinel generated the alert or incident, as the Elastic normaliser reads an alert's original time.
/// Sentinel states no event category, so <c>event.category</c> is left out. The original document is kept under <c>sentinel</c>.
/// </summary>
public sealed class SentinelNormalizer : IAlertNormalizer
{
    public string Format => "sentinel";

    public bool Recognises(JsonObject document) => IncidentOf(document) is not null || AlertOf(document) is not null;

    public JsonObject Normalize(JsonObject document)
    {
        var ecs = new EcsDraft();
        var threat = new ThreatDraft();
        var entitySources = new List<JsonNode?>();
        var customDetails = new List<JsonObject>();
        if (IncidentOf(document) is { } incident && incident["properties"] is JsonObject properties)
        {
            // Incident values first: the draft keeps the first value written for a field.
            ecs.Set("event.id", Siem.Key(incident, "name") ?? Siem.LastSegment(Siem.Key(incident, "id")));
            ecs.Set("event.severity", Siem.SeverityLabel(Siem.Key(properties, "severity")));
            ecs.Set("@timestamp", Siem.Key(properties, "firstActivityTimeUtc"));
            ecs.Set("event.created", Siem.Key(properties, "createdTimeUtc"));
            ecs.Set("event.start", Siem.Key(properties, "firstActivityTimeUtc"));
            ecs.Set("event.end", Siem.Key(properties, "lastActivityTimeUtc"));
            ecs.Set("event.url", Siem.Key(properties, "incidentUrl"));
            ecs.Set("rule.id", Siem.LastSegment(Siem.Key(properties, "relatedAnalyticRuleIds")));
            threat.Tactics(AlertFields.Values(properties, "additionalData.tactics"));
            threat.Techniques(AlertFields.Values(properties, "additionalData.techniques"));
            foreach (var alert in (properties["alerts"] as JsonArray ?? []).OfType<JsonObject>())
                ReadAlert(alert["properties"] as JsonObject ?? alert, ecs, threat, entitySources, customDetails);
            ecs.Set("@timestamp", Siem.Key(properties, "createdTimeUtc"));
            ecs.Set("rule.name", Siem.Key(properties, "title"));
            entitySources.Add(properties["relatedEntities"]);
        }
        else if (AlertOf(document) is { } alert)
            ReadAlert(alert, ecs, threat, entitySources, customDetails);

        foreach (var details in customDetails)
        {
            ecs.SetIp("source.ip", Siem.Key(details, "SrcIpAddr"));
            ecs.Set("source.host.name", Siem.Key(details, "SrcHostname"));
            ecs.SetIp("destination.ip", Siem.Key(details, "DstIpAddr", "TargetIpAddr"));
            ecs.Set("dns.question.name", Siem.DnsName(Siem.Key(details, "DnsQuery")));
        }
        ReadEntities(entitySources, ecs);
        foreach (var details in customDetails)
            ecs.Set("user.name", Siem.Key(details, "TargetUsername", "ActorUsername", "SrcUsername"));
        return ecs.Build("sentinel", document, threat);
    }

    /// <summary>The incident: the automation-rule/Logic Apps trigger's <c>object</c>, or an Azure REST incident resource.</summary>
    private static JsonObject? IncidentOf(JsonObject document)
    {
        var incident = document["object"] as JsonObject ?? document;
        if (incident["properties"] is not JsonObject p || p["incidentNumber"] is not JsonValue) return null;
        var isSentinel = p["relatedAnalyticRuleIds"] is not null || p["providerName"] is not null || p["additionalData"] is not null
            || (Siem.Key(incident, "type")?.Contains("SecurityInsights", StringComparison.OrdinalIgnoreCase) ?? false);
        return isSentinel ? incident : null;
    }

    /// <summary>The alert: a SecurityAlert row / alert-trigger body (PascalCase), or the <c>properties</c> of a REST SecurityAlert entity.</summary>
    private static JsonObject? AlertOf(JsonObject document)
    {
        if (Siem.Key(document, "SystemAlertId") is not null && Siem.Key(document, "AlertName", "DisplayName", "AlertDisplayName") is not null)
            return document;
        return document["properties"] is JsonObject p && Siem.Key(p, "systemAlertId") is not null && Siem.Key(p, "alertDisplayName") is not null
            ? p : null;
    }

    private static void ReadAlert(JsonObject a, EcsDraft ecs, ThreatDraft threat, List<JsonNode?> entitySources, List<JsonObject> customDetails)
    {
        var extended = Siem.Embedded(Siem.Node(a, "ExtendedProperties", "additionalData")) as JsonObject;
        ecs.Set("event.id", Siem.Key(a, "SystemAlertId", "systemAlertId"));
        ecs.Set("event.severity", Siem.SeverityLabel(Siem.Key(a, "AlertSeverity", "Severity", "severity")));
        ecs.Set("@timestamp", Siem.Key(a, "StartTime", "StartTimeUtc", "startTimeUtc", "TimeGenerated", "timeGenerated"));
        ecs.Set("event.created", Siem.Key(a, "TimeGenerated", "timeGenerated", "ProcessingEndTime", "processingEndTime"));
        ecs.Set("event.start", Siem.Key(a, "StartTime", "StartTimeUtc", "startTimeUtc"));
        ecs.Set("event.end", Siem.Key(a, "EndTime", "EndTimeUtc", "endTimeUtc"));
        ecs.Set("event.url", Siem.Key(a, "AlertLink", "alertLink"));
        ecs.Set("rule.id", Siem.Scalar(Siem.Embedded(extended?["Analytic Rule Ids"])) ?? Siem.Key(a, "AlertType", "alertType"));
        ecs.Set("rule.name", Siem.Key(extended, "Analytic Rule Name") ?? Siem.Key(a, "AlertName", "DisplayName", "AlertDisplayName", "alertDisplayName"));
        ecs.Set("rule.description", Siem.Key(a, "Description", "description"));
        threat.Tactics(Siem.Node(a, "Tactics", "tactics"));
        threat.Techniques(Siem.Node(a, "Techniques", "techniques"));
        threat.Techniques(Siem.Node(a, "SubTechniques", "subTechniques"));
        if (Siem.Embedded(extended?["Custom Details"]) is JsonObject details) customDetails.Add(details);
        entitySources.Add(Siem.Node(a, "Entities", "entities"));
    }

    private static void ReadEntities(List<JsonNode?> sources, EcsDraft ecs)
    {
        var all = new List<JsonObject>();
        var ids = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var source in sources) Collect(Siem.Embedded(source), all, ids, 0);

        var hosts = all.FindAll(e => TypeOf(e) == "host");
        var leading = hosts.Find(h => Siem.Key(h, "LeadingHost") == "true") ?? (hosts.Count > 0 ? hosts[0] : null);
        if (leading is not null)
        {
            ecs.Set("host.name", Prop(leading, "HostName", "hostName") ?? Prop(leading, "FQDN", "fqdn"));
            ecs.Set("host.domain", Prop(leading, "DnsDomain", "dnsDomain"));
            ecs.Set("host.os.type", Siem.OsType(Prop(leading, "OSFamily", "osFamily")));
            ecs.Set("host.os.version", Prop(leading, "OSVersion", "osVersion"));
        }
        foreach (var host in hosts) ecs.Add("related.hosts", Prop(host, "HostName", "hostName"));

        var accounts = all.FindAll(e => TypeOf(e) == "account");
        if (accounts.Count > 0)
        {
            var account = accounts[0];
            ecs.Set("user.name", Prop(account, "Name", "accountName"));
            ecs.Set("user.domain", Prop(account, "NTDomain", "ntDomain") ?? Prop(account, "UPNSuffix", "upnSuffix"));
            ecs.Set("user.id", Prop(account, "Sid", "sid") ?? Prop(account, "AadUserId", "aadUserId"));
        }
        foreach (var account in accounts) ecs.Add("related.user", Prop(account, "Name", "accountName"));

        // The process the alert is about: the first one that is not another listed process's parent.
        var processes = all.FindAll(e => TypeOf(e) == "process");
        var parents = new HashSet<JsonObject>(processes.Select(p => Deref(PropNode(p, "ParentProcess", "parentProcessEntityId"), ids)).OfType<JsonObject>());
        if ((processes.Find(p => !parents.Contains(p)) ?? (processes.Count > 0 ? processes[0] : null)) is { } process)
        {
            WriteProcess(process, "process", ids, ecs);
            if (Deref(PropNode(process, "ParentProcess", "parentProcessEntityId"), ids) is { } parent)
                WriteProcess(parent, "process.parent", ids, ecs);
        }

        if (all.Find(e => TypeOf(e) == "dns") is { } dns)
        {
            ecs.Set("dns.question.name", Siem.DnsName(Prop(dns, "DomainName", "domainName")));
            ecs.SetIp("source.ip", AddressOf(Deref(PropNode(dns, "HostIpAddress", "hostIpAddressEntityId"), ids)));
            ecs.SetIp("destination.ip", AddressOf(Deref(PropNode(dns, "DnsServerIp", "dnsServerIpEntityId"), ids)));
        }
        foreach (var ip in all.FindAll(e => TypeOf(e) == "ip")) ecs.AddIp("related.ip", AddressOf(ip));
        foreach (var hash in all.FindAll(e => TypeOf(e) == "filehash")) ecs.Add("related.hash", Prop(hash, "Value", "hashValue"));
    }

    private static void WriteProcess(JsonObject process, string prefix, Dictionary<string, JsonObject> ids, EcsDraft ecs)
    {
        var image = Deref(PropNode(process, "ImageFile", "imageFileEntityId"), ids);
        var commandLine = Prop(process, "CommandLine", "commandLine");
        var name = image is null ? null : Prop(image, "Name", "fileName");
        var directory = image is null ? null : Prop(image, "Directory", "directory");
        ecs.Set($"{prefix}.name", name ?? Siem.Basename(Siem.FirstToken(commandLine)));
        if (name is not null && directory is not null) ecs.Set($"{prefix}.executable", directory.TrimEnd('\\', '/') + "\\" + name);
        ecs.Set($"{prefix}.command_line", commandLine);
        ecs.SetNumber($"{prefix}.pid", Siem.Number(Prop(process, "ProcessId", "processId")));
        if (image is null) return;
        foreach (var hashRef in AlertFields.Values(image, "FileHashes").Concat(AlertFields.Values(image, "properties.fileHashEntityIds")))
            if (Deref(hashRef, ids) is { } hash && string.Equals(Prop(hash, "Algorithm", "algorithm"), "SHA256", StringComparison.OrdinalIgnoreCase))
                ecs.Set($"{prefix}.hash.sha256", Prop(hash, "Value", "hashValue"));
    }

    /// <summary>Every entity object (it has a <c>Type</c>, or a REST <c>kind</c>) and every object with a <c>$id</c> or resource <c>id</c>, in document order.</summary>
    private static void Collect(JsonNode? node, List<JsonObject> entities, Dictionary<string, JsonObject> ids, int depth)
    {
        if (depth > 24) return;
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array) Collect(item, entities, ids, depth + 1);
                break;
            case JsonObject obj:
                if (obj["$ref"] is null)
                {
                    if (TypeOf(obj) is not null) entities.Add(obj);
                    if (Siem.Key(obj, "$id") is { } localId) ids.TryAdd(localId, obj);
                    if (obj["kind"] is not null && Siem.Key(obj, "id") is { } resourceId) ids.TryAdd(resourceId, obj);
                }
                foreach (var (_, value) in obj) Collect(value, entities, ids, depth + 1);
                break;
        }
    }

    /// <summary>The entity type in lower case: <c>Type</c> of a SecurityAlert entity, or <c>kind</c> of a REST entity (DnsResolution reads as dns).</summary>
    private static string? TypeOf(JsonObject entity) => (Siem.Key(entity, "Type") ?? Siem.Key(entity, "kind"))?.ToLowerInvariant() switch
    {
        "dnsresolution" => "dns",
        var type => type,
    };

    /// <summary>A SecurityAlert entity property (PascalCase) or its REST twin under <c>properties</c> (camelCase).</summary>
    private static string? Prop(JsonObject entity, string pascal, string camel) =>
        Siem.Key(entity, pascal) ?? Siem.Key(entity["properties"], camel) ?? Siem.Key(entity, camel);

    private static JsonNode? PropNode(JsonObject entity, string pascal, string camel) =>
        entity[pascal] ?? (entity["properties"] as JsonObject)?[camel] ?? entity[camel];

    /// <summary>The entity a node points to: an inline object, a <c>{"$ref": "n"}</c>, or a REST entity id.</summary>
    private static JsonObject? Deref(JsonNode? node, Dictionary<string, JsonObject> ids) => node switch
    {
        JsonObject o when Siem.Key(o, "$ref") is { } reference => ids.GetValueOrDefault(reference),
        JsonObject o => o,
        JsonValue v when AlertFields.AsText(v) is { } id => ids.GetValueOrDefault(id),
        _ => null,
    };

    private static string? AddressOf(JsonObject? ip) => ip is null ? null : Prop(ip, "Address", "address");
}

/// <summary>
/// Google SecOps (Chronicle) Detection Engine detections — the <c>Collection</c> of type <c>RULE_DETECTION</c> (or a curated or
/// other detection) with <c>detection[]</c> (the rule's <c>SecurityResult</c>: <c>ruleName</c>, <c>ruleId</c>, <c>severity</c>,
/// <c>ruleLabels</c>, <c>outcomes</c>, <c>riskScore</c>, <c>attackDetails</c>) and the UDM events under
/// <c>collectionElements[].references[].event</c>; a <c>{"detection": {...}}</c> wrapper is unwrapped.
/// <para>
/// ATT&amp;CK ids come from <c>attackDetails</c> (of the detection and of each event's <c>securityResult</c>), from rule labels and
/// outcomes whose key names a tactic or technique (<c>tactic</c>, <c>technique</c>, <c>mitre_attack_tactic</c>,
/// <c>mitre_attack_technique_id</c>, <c>mitre_attack_url</c>, …; a technique given only by name is not resolved), and from
/// collection <c>tags</c> such as <c>TA0043</c> or <c>T1595.001</c>.
/// </para>
/// <para>
/// Roles follow UDM: the host is the <c>principal</c>, except for <c>USER_LOGIN</c>/<c>USER_LOGOUT</c>, where it is the <c>target</c>
/// the account logged on to. For <c>NETWORK_*</c> and logon events the principal is <c>source</c> and the target's IP
/// <c>destination.ip</c>. The process is <c>target.process</c> for <c>PROCESS_LAUNCH</c> (the principal is its parent), else
/// <c>principal.process</c>. <c>event.category</c> comes from <c>metadata.eventType</c> (NETWORK_* network, USER_LOGIN/LOGOUT
/// authentication, PROCESS_* process, FILE_* file, REGISTRY_* registry). The original document is kept under <c>chronicle</c>.
/// </para>
/// </summary>
public sealed class ChronicleNormalizer : IAlertNormalizer
{
    public string Format => "chronicle";

    public bool Recognises(JsonObject document) => CollectionOf(document) is not null;

    public JsonObject Normalize(JsonObject document)
    {
        var c = CollectionOf(document) ?? document;
        var ecs = new EcsDraft();
        var threat = new ThreatDraft();
        var results = (c["detection"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var events = AlertFields.Values(c, "collectionElements.references.event").OfType<JsonObject>().ToList();
        var labels = results.SelectMany(r => AlertFields.Values(r, "ruleLabels").Concat(AlertFields.Values(r, "outcomes"))).OfType<JsonObject>().ToList();

        ecs.Set("event.id", Siem.Key(c, "id"));
        ecs.Set("@timestamp", Siem.Key(c, "detectionTime", "createdTime"));
        ecs.Set("event.created", Siem.Key(c, "createdTime"));
        ecs.Set("event.start", AlertFields.Text(c, "timeWindow.startTime"));
        ecs.Set("event.end", AlertFields.Text(c, "timeWindow.endTime"));
        foreach (var r in results)
        {
            ecs.Set("rule.id", Siem.Key(r, "ruleId"));
            ecs.Set("rule.name", Siem.Key(r, "ruleName", "displayName"));
            ecs.Set("rule.version", Siem.Key(r, "ruleVersion"));
            ecs.Set("rule.description", Siem.Key(r, "description", "summary"));
            ecs.Set("rule.author", Siem.Key(r, "ruleAuthor"));
            ecs.Set("event.url", Siem.Key(r, "urlBackToProduct"));
            ecs.Set("event.severity", Siem.SeverityLabel(Siem.Key(r, "severity")));
            threat.Tactics(AlertFields.Values(r, "attackDetails.tactics"));
            threat.Techniques(AlertFields.Values(r, "attackDetails.techniques"));
        }
        ecs.Set("event.severity", Siem.SeverityLabel(Label(labels, "severity")));
        var risk = results.Select(r => AlertFields.AsNumber(r["riskScore"])).FirstOrDefault(n => n is not null) ?? Siem.Number(Label(labels, "risk_score"));
        ecs.SetNumber("event.risk_score", risk);
        ecs.SetNumber("event.severity", risk);

        foreach (var label in labels)
        {
            var key = Siem.Key(label, "key") ?? "";
            if (key.Contains("tactic", StringComparison.OrdinalIgnoreCase)) threat.Tactics(label["value"]);
            else if (key.Contains("technique", StringComparison.OrdinalIgnoreCase)
                     || (key.Contains("mitre", StringComparison.OrdinalIgnoreCase) && key.Contains("url", StringComparison.OrdinalIgnoreCase)))
                threat.Techniques(label["value"]);
        }
        foreach (var tag in AlertFields.Texts(c, "tags"))
        {
            threat.Tactic(tag);
            threat.Techniques(JsonValue.Create(tag));
        }

        foreach (var e in events)
        {
            var type = AlertFields.Text(e, "metadata.eventType") ?? "";
            var logon = type.Equals("USER_LOGIN", StringComparison.OrdinalIgnoreCase) || type.Equals("USER_LOGOUT", StringComparison.OrdinalIgnoreCase);
            var network = type.StartsWith("NETWORK_", StringComparison.OrdinalIgnoreCase);
            var host = logon ? "target" : "principal";
            var peer = logon ? "principal" : "target";
            ecs.Set("host.name", AlertFields.Text(e, $"{host}.hostname") ?? AlertFields.Text(e, $"{host}.asset.hostname"));
            ecs.SetIp("host.ip", AlertFields.Text(e, $"{host}.ip") ?? AlertFields.Text(e, $"{host}.asset.ip"));
            ecs.Set("host.os.type", Siem.OsType(AlertFields.Text(e, $"{host}.asset.platformSoftware.platform") ?? AlertFields.Text(e, $"{host}.platform")));
            ecs.Set("user.name", AlertFields.Text(e, $"{host}.user.userid") ?? AlertFields.Text(e, $"{peer}.user.userid"));
            ecs.Set("user.domain", AlertFields.Text(e, $"{host}.administrativeDomain") ?? AlertFields.Text(e, $"{peer}.administrativeDomain"));
            if (logon || network)
            {
                ecs.SetIp("source.ip", AlertFields.Text(e, "principal.ip") ?? AlertFields.Text(e, "principal.asset.ip"));
                ecs.Set("source.host.name", AlertFields.Text(e, "principal.hostname") ?? AlertFields.Text(e, "principal.asset.hostname"));
                ecs.SetIp("destination.ip", AlertFields.Text(e, "target.ip") ?? AlertFields.Text(e, "target.asset.ip"));
            }
            var launch = type.Equals("PROCESS_LAUNCH", StringComparison.OrdinalIgnoreCase);
            WriteProcess(e, launch ? "target.process" : "principal.process", "process", ecs);
            if (launch) WriteProcess(e, "principal.process", "process.parent", ecs);
            ecs.Set("dns.question.name", Siem.DnsName(AlertFields.Text(e, "network.dns.questions.name")));
            ecs.Add("event.category", CategoryOf(type));
            threat.Tactics(AlertFields.Values(e, "securityResult.attackDetails.tactics"));
            threat.Techniques(AlertFields.Values(e, "securityResult.attackDetails.techniques"));
        }
        return ecs.Build("chronicle", document, threat);
    }

    private static JsonObject? CollectionOf(JsonObject document)
    {
        static bool IsCollection(JsonObject o) => o["detection"] is JsonArray && (o["collectionElements"] is JsonArray || o["detectionTime"] is JsonValue);
        if (IsCollection(document)) return document;
        return document["detection"] is JsonObject inner && IsCollection(inner) ? inner : null;
    }

    private static void WriteProcess(JsonObject e, string udm, string prefix, EcsDraft ecs)
    {
        var path = AlertFields.Text(e, $"{udm}.file.fullPath");
        ecs.Set($"{prefix}.name", Siem.Basename(path));
        if (path is not null && Siem.IsPath(path)) ecs.Set($"{prefix}.executable", path);
        ecs.Set($"{prefix}.command_line", AlertFields.Text(e, $"{udm}.commandLine"));
        ecs.SetNumber($"{prefix}.pid", Siem.Number(AlertFields.Text(e, $"{udm}.pid")));
        ecs.Set($"{prefix}.hash.sha256", AlertFields.Text(e, $"{udm}.file.sha256"));
    }

    /// <summary>The value of the first <c>{key, value}</c> label with this key (rule labels, then outcomes).</summary>
    private static string? Label(List<JsonObject> labels, string key) =>
        labels.Where(l => string.Equals(Siem.Key(l, "key"), key, StringComparison.OrdinalIgnoreCase)).Select(l => Siem.Key(l, "value")).FirstOrDefault(v => v is not null);

    private static string? CategoryOf(string eventType) => eventType.ToUpperInvariant() switch
    {
        var t when t.StartsWith("NETWORK_", StringComparison.Ordinal) => "network",
        "USER_LOGIN" or "USER_LOGOUT" => "authentication",
        var t when t.StartsWith("PROCESS_", StringComparison.Ordinal) => "process",
        var t when t.StartsWith("FILE_", StringComparison.Ordinal) => "file",
        var t when t.StartsWith("REGISTRY_", StringComparison.Ordinal) => "registry",
        _ => null,
    };
}

/// <summary>
/// Sumo Logic Cloud SIEM insights (<c>readableId</c> INSIGHT-…, <c>severity</c> LOW … CRITICAL, <c>entity</c>, <c>signals[]</c>) and
/// single signals (<c>ruleId</c>, <c>severity</c> 0–10, <c>stage</c>, <c>tags</c>, <c>entity</c>, <c>allRecords[]</c>), bare or in the
/// API's <c>{"data": ...}</c> envelope. Record fields use the Cloud SIEM normalised schema.
/// <para>
/// Severity: an insight's label as written. A signal's 0–10 number has no published label banding, so it is read as
/// 8–10 critical, 6–7 high, 3–5 medium, 0–2 low (Cloud SIEM's own rules mostly score 1–5, which keeps "high" for tuned or
/// criticality-raised signals).
/// </para>
/// <para>
/// Fields come from the first record that has them, in signal order: <c>device_hostname</c>/<c>device_ip</c>/<c>device_osName</c>
/// describe the host only on non-network records (on a <c>Network*</c> record the device is the appliance that logged it), then the
/// entity (<c>_hostname</c>, <c>_username</c>), then <c>srcDevice_hostname</c>. <c>srcDevice_ip</c> is <c>source.ip</c>,
/// <c>srcDevice_hostname</c> <c>source.host.name</c>, <c>dstDevice_ip</c> <c>destination.ip</c>, <c>user_username</c>
/// <c>user.name</c>, <c>baseImage</c>/<c>commandLine</c> the process, <c>file_hash_sha256</c> <c>process.hash.sha256</c> on a
/// record that names a process (else <c>file.hash.sha256</c>), <c>dns_query</c>/<c>dns_queryDomain</c> <c>dns.question.name</c>.
/// ATT&amp;CK ids come from <c>_mitreAttackTactic:</c>/<c>_mitreAttackTechnique:</c> tags (insight and signals) and any
/// <c>tactics</c>/<c>techniques</c> lists; a signal's <c>stage</c> names the tactic only when no tag does. <c>event.category</c>
/// comes from the records' <c>objectType</c> (Authentication* authentication, Network* network, EndpointProcess process, Email
/// email, AuditFile file). The original document is kept under <c>sumo_logic</c>.
/// </para>
/// </summary>
public sealed class SumoLogicNormalizer : IAlertNormalizer
{
    private const string TacticTag = "_mitreAttackTactic:";
    private const string TechniqueTag = "_mitreAttackTechnique:";

    public string Format => "sumo_logic";

    public bool Recognises(JsonObject document) => Unwrap(document) is not null;

    public JsonObject Normalize(JsonObject document)
    {
        var o = Unwrap(document) ?? document;
        var insight = IsInsight(o);
        var signals = insight ? (o["signals"] as JsonArray ?? []).OfType<JsonObject>().ToList() : new List<JsonObject> { o };
        var records = signals.SelectMany(s => AlertFields.Values(s, "allRecords")).OfType<JsonObject>().ToList();
        var hostRecords = records.FindAll(r => !(Siem.Key(r, "objectType")?.StartsWith("Network", StringComparison.OrdinalIgnoreCase) ?? false));
        var ecs = new EcsDraft();
        var threat = new ThreatDraft();

        // The signal that names the rule: the most severe (the first of equals).
        var top = signals.OrderByDescending(s => AlertFields.AsNumber(s["severity"]) ?? -1).FirstOrDefault();
        ecs.Set("event.id", insight ? Siem.Key(o, "readableId", "id") : Siem.Key(o, "id"));
        if (insight) ecs.Set("event.severity", Siem.SeverityLabel(Siem.Key(o, "severity")));
        ecs.Set("event.severity", SignalSeverity(top is null ? null : AlertFields.AsNumber(top["severity"])));
        ecs.Set("@timestamp", Siem.Utc(Siem.Key(o, "timestamp", "created")));
        ecs.Set("event.created", Siem.Utc(Siem.Key(o, "created")));
        ecs.Set("rule.id", Siem.Key(top, "ruleId"));
        ecs.Set("rule.name", Siem.Key(top, "ruleName", "name"));
        ecs.Set("rule.description", Siem.Key(top, "description"));

        ecs.Set("host.name", First(hostRecords, "device_hostname") ?? Entity(o, "_hostname") ?? First(records, "srcDevice_hostname"));
        ecs.SetIp("host.ip", First(hostRecords, "device_ip"));
        ecs.Set("host.os.type", Siem.OsType(First(hostRecords, "device_osName")));
        ecs.Set("host.os.name", First(hostRecords, "device_osName"));
        ecs.Set("user.name", First(records, "user_username") ?? Entity(o, "_username"));
        ecs.Set("user.domain", First(records, "user_authDomain"));
        ecs.SetIp("source.ip", First(records, "srcDevice_ip"));
        ecs.Set("source.host.name", First(records, "srcDevice_hostname"));
        ecs.SetIp("destination.ip", First(records, "dstDevice_ip"));
        ecs.Set("dns.question.name", Siem.DnsName(First(records, "dns_query", "dns_queryDomain", "query")));
        foreach (var r in records)
        {
            if (Siem.Key(r, "baseImage") is { } image)
            {
                ecs.Set("process.name", Siem.Basename(image));
                if (Siem.IsPath(image)) ecs.Set("process.executable", image);
                ecs.Set("process.command_line", Siem.Key(r, "commandLine"));
                ecs.SetNumber("process.pid", Siem.Number(Siem.Key(r, "pid")));
                ecs.Set("process.hash.sha256", Siem.Key(r, "file_hash_sha256"));
                ecs.Set("process.parent.name", Siem.Basename(Siem.Key(r, "parentBaseImage")));
            }
            else ecs.Set("file.hash.sha256", Siem.Key(r, "file_hash_sha256"));
            ecs.Add("event.category", CategoryOf(Siem.Key(r, "objectType")));
        }

        foreach (var tag in AlertFields.Texts(o, "tags").Concat(signals.SelectMany(s => AlertFields.Texts(s, "tags"))))
        {
            if (tag.StartsWith(TacticTag, StringComparison.OrdinalIgnoreCase)) threat.Tactic(tag[TacticTag.Length..]);
            else if (tag.StartsWith(TechniqueTag, StringComparison.OrdinalIgnoreCase)) threat.Techniques(JsonValue.Create(tag[TechniqueTag.Length..]));
        }
        threat.Tactics(o["tactics"]);
        threat.Techniques(o["techniques"]);
        if (!threat.HasTactics)
            foreach (var signal in signals) threat.Tactic(Siem.Key(signal, "stage"));
        return ecs.Build("sumo_logic", document, threat);
    }

    /// <summary>The insight or signal: the document itself, or the <c>data</c> of an API response envelope.</summary>
    private static JsonObject? Unwrap(JsonObject document)
    {
        var o = document["data"] is JsonObject data && (document.Count == 1 || document.ContainsKey("errors")) ? data : document;
        return IsInsight(o) || IsSignal(o) ? o : null;
    }

    private static bool IsInsight(JsonObject o) =>
        (Siem.Key(o, "readableId")?.StartsWith("INSIGHT-", StringComparison.OrdinalIgnoreCase) ?? false)
        || (o["signals"] is JsonArray && o["entity"] is JsonObject);

    private static bool IsSignal(JsonObject o) =>
        o["ruleId"] is JsonValue && o["entity"] is JsonObject && (o["allRecords"] is JsonArray || o["stage"] is JsonValue || o["contentType"] is JsonValue);

    /// <summary>8–10 critical, 6–7 high, 3–5 medium, 0–2 low (see the class summary).</summary>
    private static string? SignalSeverity(double? severity) => severity switch
    {
        null => null,
        >= 8 => "critical",
        >= 6 => "high",
        >= 3 => "medium",
        _ => "low",
    };

    /// <summary>The first value of the first key that any record has, trying the keys in order.</summary>
    private static string? First(List<JsonObject> records, params ReadOnlySpan<string> keys)
    {
        foreach (var key in keys)
            foreach (var record in records)
                if (Siem.Key(record, key) is { } value) return value;
        return null;
    }

    private static string? Entity(JsonObject o, string entityType) =>
        string.Equals(AlertFields.Text(o, "entity.entityType"), entityType, StringComparison.OrdinalIgnoreCase) ? AlertFields.Text(o, "entity.value") : null;

    private static string? CategoryOf(string? objectType) => objectType switch
    {
        null => null,
        var t when t.StartsWith("Authentication", StringComparison.OrdinalIgnoreCase) => "authentication",
        var t when t.StartsWith("Network", StringComparison.OrdinalIgnoreCase) => "network",
        var t when t.Equals("EndpointProcess", StringComparison.OrdinalIgnoreCase) => "process",
        var t when t.Equals("Email", StringComparison.OrdinalIgnoreCase) => "email",
        var t when t.Equals("AuditFile", StringComparison.OrdinalIgnoreCase) => "file",
        _ => null,
    };
}

/// <summary>
/// An ECS document being assembled by a normaliser. The first value written for a field wins, so a normaliser writes its
/// preferred source first and its fallbacks after. Blank values, and addresses that are not IP addresses, are not written.
/// </summary>
internal sealed class EcsDraft
{
    private readonly JsonObject _doc = new() { ["event"] = new JsonObject { ["kind"] = "alert" } };

    public void Set(string path, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value)) Put(path, JsonValue.Create(value.Trim()));
    }

    public void SetIp(string path, string? value) => Set(path, Siem.Ip(value));

    public void SetNumber(string path, double? value)
    {
        if (value is { } number && double.IsFinite(number)) Put(path, JsonValue.Create(number));
    }

    /// <summary>Adds a value to the array at <paramref name="path"/> unless it is blank or already there.</summary>
    public void Add(string path, string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || Parent(path) is not { } parent) return;
        var leaf = Leaf(path);
        var text = value.Trim();
        if (parent[leaf] is JsonArray array)
        {
            // Bounded: a related.* list of a crafted alert stays small, so this check stays cheap.
            if (array.Count < ThreatDraft.MaxTechniques && !array.Any(v => AlertFields.AsText(v) == text)) array.Add(JsonValue.Create(text));
        }
        else if (parent[leaf] is null) parent[leaf] = new JsonArray(JsonValue.Create(text));
    }

    public void AddIp(string path, string? value) => Add(path, Siem.Ip(value));

    /// <summary>The document, with the threat fields and the original document under <paramref name="vendorKey"/>.</summary>
    public JsonObject Build(string vendorKey, JsonObject original, ThreatDraft threat)
    {
        if (threat.Build() is { } t) _doc["threat"] = t;
        _doc[vendorKey] = original.DeepClone();
        return _doc;
    }

    private void Put(string path, JsonNode? value)
    {
        if (Parent(path) is { } parent && parent[Leaf(path)] is null) parent[Leaf(path)] = value;
    }

    private static string Leaf(string path) => path[(path.LastIndexOf('.') + 1)..];

    /// <summary>The object that holds the last segment of <paramref name="path"/>, created as needed; null when a non-object is in the way.</summary>
    private JsonObject? Parent(string path)
    {
        var node = _doc;
        var segments = path.Split('.');
        for (var i = 0; i < segments.Length - 1; i++)
        {
            switch (node[segments[i]])
            {
                case JsonObject child:
                    node = child;
                    break;
                case null:
                    var created = new JsonObject();
                    node[segments[i]] = created;
                    node = created;
                    break;
                default:
                    return null;
            }
        }
        return node;
    }
}

/// <summary>
/// ATT&amp;CK tactics and techniques gathered from a vendor document. Techniques are written as <c>threat.technique.id</c> (the
/// parent ids, also derived from sub-technique ids) and <c>threat.technique.subtechnique.id</c>; tactics given by id (TA0008) or by
/// name in any spelling (<c>Lateral Movement</c>, <c>LateralMovement</c>, <c>lateral_movement</c>) as <c>threat.tactic.id</c> and
/// <c>threat.tactic.name</c>. A tactic that is not an enterprise ATT&amp;CK tactic is left out.
/// </summary>
internal sealed class ThreatDraft
{
    /// <summary>At most this many technique ids are read from one alert (a real one names a handful; a crafted one must not cost CPU).</summary>
    public const int MaxTechniques = 256;

    private readonly List<string> _techniques = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly List<string> _tacticIds = [];
    private readonly List<string> _tacticNames = [];

    public bool HasTactics => _tacticIds.Count > 0;

    /// <summary>Every technique id in the text of <paramref name="node"/> (strings, arrays, object values; JSON written as a string too).</summary>
    public void Techniques(JsonNode? node) => Techniques(node, 0);

    public void Techniques(List<JsonNode> nodes)
    {
        foreach (var node in nodes) Techniques(node, 0);
    }

    /// <summary>The tactics in <paramref name="node"/>: a list separated by commas, an array, or objects with <c>id</c>/<c>name</c>.</summary>
    public void Tactics(JsonNode? node)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array) Tactics(item);
                break;
            case JsonObject obj:
                if (Siem.Tactic(Siem.Key(obj, "id")) is null) Tactic(Siem.Key(obj, "name"));
                else Tactic(Siem.Key(obj, "id"));
                break;
            default:
                if (AlertFields.AsText(node) is { } text)
                    foreach (var part in text.Split(Siem.ListSeparators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        Tactic(part);
                break;
        }
    }

    public void Tactics(List<JsonNode> nodes)
    {
        foreach (var node in nodes) Tactics(node);
    }

    public void Tactic(string? text)
    {
        if (Siem.Tactic(text) is not { } tactic || _tacticIds.Contains(tactic.Id)) return;
        _tacticIds.Add(tactic.Id);
        _tacticNames.Add(tactic.Name);
    }

    public JsonObject? Build()
    {
        if (_techniques.Count == 0 && _tacticIds.Count == 0) return null;
        var threat = new JsonObject { ["framework"] = Siem.Framework };
        if (_tacticIds.Count > 0)
            threat["tactic"] = new JsonObject { ["id"] = Siem.Strings(_tacticIds), ["name"] = Siem.Strings(_tacticNames) };
        if (_techniques.Count > 0)
        {
            var technique = new JsonObject { ["id"] = Siem.Strings(_techniques.Select(t => t.Split('.')[0]).Distinct(StringComparer.Ordinal)) };
            var subtechniques = _techniques.FindAll(t => t.Contains('.', StringComparison.Ordinal));
            if (subtechniques.Count > 0) technique["subtechnique"] = new JsonObject { ["id"] = Siem.Strings(subtechniques) };
            threat["technique"] = technique;
        }
        return threat;
    }

    private void Techniques(JsonNode? node, int depth)
    {
        if (depth > 16) return;
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array) Techniques(item, depth + 1);
                break;
            case JsonObject obj:
                foreach (var (_, value) in obj) Techniques(value, depth + 1);
                break;
            default:
                if (AlertFields.AsText(node) is { } text)
                    foreach (var id in Siem.TechniqueIds(text))
                        if (_techniques.Count < MaxTechniques && _seen.Add(id)) _techniques.Add(id);
                break;
        }
    }
}

/// <summary>Reading helpers shared by the SIEM normalisers.</summary>
internal static partial class Siem
{
    public const string Framework = "MITRE ATT&CK";

    public static readonly char[] PathSeparators = ['\\', '/'];

    public static readonly char[] ListSeparators = [',', ';', '|'];

    private static readonly (string Word, string Label)[] SeverityWords =
    [
        ("informational", "low"), ("information", "low"), ("info", "low"), ("low", "low"),
        ("medium", "medium"), ("moderate", "medium"), ("high", "high"), ("critical", "critical"),
    ];

    private static readonly string[] LinuxNames = ["linux", "ubuntu", "debian", "centos", "red hat", "rhel", "fedora", "suse", "alpine", "rocky", "almalinux"];

    /// <summary>The first non-blank text among the literal <paramref name="keys"/> of an object (keys are not split on dots); an array gives its first text.</summary>
    public static string? Key(JsonNode? node, params ReadOnlySpan<string> keys)
    {
        if (node is not JsonObject obj) return null;
        foreach (var key in keys)
            if (obj.TryGetPropertyValue(key, out var value) && Scalar(value) is { } text) return text;
        return null;
    }

    /// <summary>The first non-null value among the literal <paramref name="keys"/> of an object.</summary>
    public static JsonNode? Node(JsonNode? node, params ReadOnlySpan<string> keys)
    {
        if (node is not JsonObject obj) return null;
        foreach (var key in keys)
            if (obj.TryGetPropertyValue(key, out var value) && value is not null) return value;
        return null;
    }

    /// <summary>A value as trimmed text (an array: its first text element); null when blank.</summary>
    public static string? Scalar(JsonNode? node)
    {
        var text = node is JsonArray array ? array.Select(AlertFields.AsText).FirstOrDefault(t => !string.IsNullOrWhiteSpace(t)) : AlertFields.AsText(node);
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    /// <summary>
    /// A value that may be JSON written as a string (Sentinel's <c>Entities</c>, <c>ExtendedProperties</c>, <c>Custom Details</c>):
    /// the parsed object or array, else the value itself when it is already one; null for other text or JSON that does not parse.
    /// </summary>
    public static JsonNode? Embedded(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String) return node;
        try
        {
            var text = value.GetValue<string>().Trim();
            return text.StartsWith('{') || text.StartsWith('[') ? JsonNode.Parse(text, documentOptions: AlertJson.Options) : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    public static double? Number(string? text) => AlertFields.AsNumber(text is null ? null : JsonValue.Create(text));

    /// <summary>The last path segment of a resource id (<c>.../alertRules/&lt;guid&gt;</c> gives the guid).</summary>
    public static string? LastSegment(string? id) => id is null ? null : id.TrimEnd('/')[(id.TrimEnd('/').LastIndexOf('/') + 1)..];

    /// <summary>The file name of a Windows or POSIX path.</summary>
    public static string? Basename(string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) return null;
        var trimmed = path.Trim().Trim('"').TrimEnd(PathSeparators);
        var name = trimmed[(trimmed.LastIndexOfAny(PathSeparators) + 1)..];
        return name.Length == 0 ? null : name;
    }

    /// <summary>The program of a command line: the quoted first token, or the text up to the first space.</summary>
    public static string? FirstToken(string? commandLine)
    {
        if (string.IsNullOrWhiteSpace(commandLine)) return null;
        var line = commandLine.Trim();
        if (line.StartsWith('"'))
        {
            var close = line.IndexOf('"', 1);
            return close > 1 ? line[1..close] : null;
        }
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? line : line[..space];
    }

    /// <summary>An IP address as written, or null when the text is not a dotted-quad IPv4 or an IPv6 address (a host name, say).</summary>
    public static string? Ip(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var trimmed = text.Trim();
        if (!IPAddress.TryParse(trimmed, out var ip)) return null;
        return ip.AddressFamily == AddressFamily.InterNetworkV6 || trimmed.Count(ch => ch == '.') == 3 ? trimmed : null;
    }

    /// <summary>True when the text contains a path separator (a full path rather than a bare file name).</summary>
    public static bool IsPath(string text) => text.Contains('\\') || text.Contains('/');

    /// <summary>A DNS name without the root's trailing dot.</summary>
    public static string? DnsName(string? text)
    {
        var name = text?.Trim().TrimEnd('.');
        return string.IsNullOrEmpty(name) ? null : name;
    }

    /// <summary>A timestamp with <c>Z</c> appended when it carries no zone (Sumo Logic writes UTC times without one).</summary>
    public static string? Utc(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var trimmed = text.Trim();
        return NoZone().IsMatch(trimmed) ? trimmed + "Z" : trimmed;
    }

    /// <summary>low, medium, high or critical for a vendor label (Informational reads as low); null for anything else.</summary>
    public static string? SeverityLabel(string? text)
    {
        if (text is null) return null;
        var trimmed = text.Trim();
        foreach (var (word, label) in SeverityWords)
            if (string.Equals(trimmed, word, StringComparison.OrdinalIgnoreCase)) return label;
        return null;
    }

    /// <summary>The ECS <c>host.os.type</c> (windows, linux, macos, ios, android, unix) for a vendor's OS name or platform, else null.</summary>
    public static string? OsType(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var os = text.Trim();
        bool Has(string word) => os.Contains(word, StringComparison.OrdinalIgnoreCase);
        if (Has("windows")) return "windows";
        if (Has("macos") || Has("mac os") || Has("os x") || Has("darwin") || string.Equals(os, "mac", StringComparison.OrdinalIgnoreCase)) return "macos";
        if (Has("android")) return "android";
        if (Has("ipados") || string.Equals(os, "ios", StringComparison.OrdinalIgnoreCase) || os.StartsWith("ios ", StringComparison.OrdinalIgnoreCase)) return "ios";
        foreach (var name in LinuxNames)
            if (Has(name)) return "linux";
        if (Has("unix") || Has("solaris") || Has("aix") || Has("bsd")) return "unix";
        return null;
    }

    /// <summary>The enterprise ATT&amp;CK tactic for an id (TA0008) or a name in any spelling, else null.</summary>
    public static (string Id, string Name)? Tactic(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var squashed = Squash(text);
        foreach (var (id, name, _) in Tactics.All)
            if (string.Equals(squashed, id, StringComparison.OrdinalIgnoreCase) || string.Equals(squashed, Squash(name), StringComparison.OrdinalIgnoreCase))
                return (id, name);
        return null;
    }

    /// <summary>The technique ids in a text: T1003, T1003.001, and T1003/001 as written in an attack.mitre.org URL.</summary>
    public static List<string> TechniqueIds(string text)
    {
        var ids = new List<string>();
        foreach (Match m in TechniquePattern().Matches(text))
            ids.Add(m.Groups[2].Success ? $"T{m.Groups[1].Value}.{m.Groups[2].Value}" : $"T{m.Groups[1].Value}");
        return ids;
    }

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    private static string Squash(string text) => new(text.Where(char.IsLetterOrDigit).ToArray());

    [GeneratedRegex(@"(?<![A-Za-z0-9])T(\d{4})(?:[./](\d{3}))?(?![0-9])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TechniquePattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NoZone();
}
