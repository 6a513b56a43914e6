using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using RunbookPilot.Domain.Execution;
using RunbookPilot.Engine.Execution;
using RunbookPilot.Domain.Intake;
using RunbookPilot.Engine.Ingestion;
using RunbookPilot.Domain.Core;
using RunbookPilot.Domain.Effects;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// Journal serializer: JSON (System.Text.Json) under an explicit, stable manifest per event type — never a CLR type
/// name — so renaming a class never breaks an old journal. Unknown manifests fail loudly.
/// </summary>
public sealed class RunbookJsonSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 1848;

    public static JsonSerializerOptions Options => JsonConventions.Options;

    /// <summary>Every journal type and its manifest: execution, intake and effect-ledger events and the snapshots.</summary>
    public static readonly IReadOnlyDictionary<Type, string> Manifests =
        EventManifests.ByType.Concat(IntakeManifests.ByType).Concat(EffectLedgerState.Manifests)
            .Append(KeyValuePair.Create(typeof(EffectLedgerSnapshot), EffectLedgerSnapshot.Manifest)).ToDictionary(kv => kv.Key, kv => kv.Value);

    private static readonly Dictionary<string, Type> Types = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var m) ? m : throw new SerializationException($"no manifest for {o.GetType()}");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Options) ?? throw new SerializationException($"null payload for {manifest}")
            : throw new SerializationException($"unknown manifest '{manifest}'");

    /// <summary>The types bound to this serializer.</summary>
    public static Type[] BoundTypes => [typeof(IExecutionEvent), typeof(IIntakeEvent), typeof(IntakeSnapshot), typeof(IEffectEvent), typeof(EffectLedgerSnapshot)];
}
