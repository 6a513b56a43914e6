using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// Messages between the nodes of a cluster (<see cref="IClusterMessage"/>: commands to executions and singletons and
/// their answers) as JSON (System.Text.Json, the journal's conventions) under the type's name. Only the marked types of
/// RunbookPilot's own assemblies are read back (a fixed table). The boundary between nodes is mutual TLS: Akka's own
/// serializers stay registered for its system messages. Unlike the journal's manifests these names may change between versions: nodes of one cluster run one version
/// (rolling upgrades replace nodes one by one with a build that reads the same messages).
/// </summary>
public sealed class RemoteJsonSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 1849;

    private static readonly JsonSerializerOptions Options = new(JsonConventions.Options) { IncludeFields = true };

    /// <summary>Every message type nodes exchange, by manifest, built once from RunbookPilot's assemblies: nothing else is ever resolved.</summary>
    private static readonly Dictionary<string, Type> Types = new[] { typeof(IClusterMessage).Assembly, typeof(RemoteJsonSerializer).Assembly }
        .SelectMany(a => a.GetTypes())
        .Where(t => typeof(IClusterMessage).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
        .ToDictionary(ManifestOf, t => t, StringComparer.Ordinal);

    private static string ManifestOf(Type t) => $"{t.FullName}, {t.Assembly.GetName().Name}";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => ManifestOf(o.GetType());

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var type = Types.TryGetValue(manifest, out var t) ? t : throw new SerializationException($"'{manifest}' is not a message nodes exchange");
        return JsonSerializer.Deserialize(bytes, type, Options) ?? throw new SerializationException($"null payload for {manifest}");
    }
}
