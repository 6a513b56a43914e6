using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using RunbookPilot.Domain.Core;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// Messages between the nodes of a cluster (<see cref="IClusterMessage"/>: commands to executions and singletons and
/// their answers) as JSON (System.Text.Json, the journal's conventions) under the type's name. Only types that carry
/// the marker are read back, so a peer — already authenticated by mutual TLS — still cannot make a node build any other
/// type. Unlike the journal's manifests these names may change between versions: nodes of one cluster run one version
/// (rolling upgrades replace nodes one by one with a build that reads the same messages).
/// </summary>
public sealed class RemoteJsonSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 1849;

    private static readonly JsonSerializerOptions Options = new(JsonConventions.Options) { IncludeFields = true };

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Type> Types = new(StringComparer.Ordinal);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => $"{o.GetType().FullName}, {o.GetType().Assembly.GetName().Name}";

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var type = Types.GetOrAdd(manifest, m => Type.GetType(m, throwOnError: false) is { } t && typeof(IClusterMessage).IsAssignableFrom(t) && !t.IsAbstract
            ? t
            : throw new SerializationException($"'{m}' is not a message nodes exchange"));
        return JsonSerializer.Deserialize(bytes, type, Options) ?? throw new SerializationException($"null payload for {manifest}");
    }
}
