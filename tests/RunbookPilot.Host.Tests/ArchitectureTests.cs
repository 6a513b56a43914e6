using System.Reflection;
using System.Reflection.Emit;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Host.Tests;

/// <summary>
/// The layering the compiler output shows, not what the source says: every type a product type names — in signatures,
/// base types, attributes and the IL of its method bodies — is an edge from its namespace to that type's namespace. The
/// graph over RunbookPilot namespaces must have no cycle, and the domain assembly must reference neither Akka nor ASP.NET.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly[] Product =
    [
        typeof(Domain.Playbooks.Playbook).Assembly,
        typeof(RunbookPilot.Engine.Configuration.RunbookPilotOptions).Assembly,
        typeof(Web.Services.DashboardData).Assembly,
        typeof(Host.Server).Assembly,
        typeof(Cli.CliApp).Assembly,
        typeof(VendorSim.SimState).Assembly,
    ];

    [Fact]
    public void The_domain_assembly_references_neither_Akka_nor_ASP_NET()
    {
        var references = typeof(Domain.Playbooks.Playbook).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(references, n => n.StartsWith("Akka", StringComparison.Ordinal) || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)
            || n.StartsWith("RunbookPilot.", StringComparison.Ordinal) || n.StartsWith("linq2db", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("YamlDotNet", references); // the check reads real references (the loader uses YamlDotNet)
    }

    [Fact]
    public void The_engine_does_not_depend_on_any_front_end()
    {
        var references = typeof(RunbookPilot.Engine.Configuration.RunbookPilotOptions).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("RunbookPilot.Domain", references);
        Assert.DoesNotContain(references, n => n is "RunbookPilot.Web" or "RunbookPilot.Host" or "runbookpilot" or "RunbookPilot.VendorSim");
    }

    [Fact]
    public void No_namespace_depends_on_itself_through_others()
    {
        var graph = NamespaceGraph();
        Assert.True(graph.Count > 20, $"only {graph.Count} namespaces seen"); // the scan sees the product, not an empty set
        Assert.Contains("RunbookPilot.Domain.Playbooks", graph["RunbookPilot.Domain.Execution"]); // and real edges
        var cycles = StronglyConnected(graph).Where(c => c.Count > 1).Select(c => string.Join(" <-> ", c.Order(StringComparer.Ordinal))).ToList();
        Assert.True(cycles.Count == 0, "namespace cycles:\n" + string.Join("\n", cycles.Select(c => c + "\n  " + Explain(c))));
    }

    [Fact]
    public void The_cycle_check_finds_a_cycle()
    {
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["a"] = ["b"], ["b"] = ["c"], ["c"] = ["a"], ["d"] = ["a"],
        };
        Assert.Equal(["a", "b", "c"], Assert.Single(StronglyConnected(graph), c => c.Count > 1).Order(StringComparer.Ordinal));
    }

    private static readonly Dictionary<(string, string), string> Witness = [];

    private static string Explain(string cycle)
    {
        var names = cycle.Split(" <-> ");
        return string.Join("\n  ", names.SelectMany(a => names.Where(b => b != a && Witness.ContainsKey((a, b))).Select(b => $"{a} -> {b}: {Witness[(a, b)]}")));
    }

    internal static Dictionary<string, HashSet<string>> NamespaceGraph()
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in Product.SelectMany(a => a.GetTypes()))
        {
            if (Own(type) is not { } from) continue;
            var edges = graph.TryGetValue(from, out var e) ? e : graph[from] = new HashSet<string>(StringComparer.Ordinal);
            foreach (var used in Used(type))
            {
                if (Own(used) is not { } to || to == from) continue;
                if (edges.Add(to)) Witness[(from, to)] = $"{type.FullName} uses {used.FullName}";
            }
        }
        return graph;
    }

    private static string? Own(Type t)
    {
        while (t.IsNested) t = t.DeclaringType!;
        return t.Namespace is { } ns && ns.StartsWith("RunbookPilot.", StringComparison.Ordinal) && Product.Contains(t.Assembly) ? ns : null;
    }

    private static IEnumerable<Type> Used(Type type)
    {
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new List<Type>();
        if (type.BaseType is { } b) found.Add(b);
        found.AddRange(type.GetInterfaces());
        found.AddRange(type.GetCustomAttributesData().Select(a => a.AttributeType));
        found.AddRange(type.GetFields(All).Select(f => f.FieldType));
        found.AddRange(type.GetProperties(All).Select(p => p.PropertyType));
        foreach (var m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo mi) found.Add(mi.ReturnType);
            found.AddRange(m.GetParameters().Select(p => p.ParameterType));
            found.AddRange(FromIl(m));
        }
        return found.SelectMany(Expand);
    }

    private static IEnumerable<Type> Expand(Type t)
    {
        if (t.HasElementType) return Expand(t.GetElementType()!);
        if (t.IsGenericParameter) return [];
        return t.IsGenericType ? t.GetGenericArguments().SelectMany(Expand).Prepend(t.GetGenericTypeDefinition()) : [t];
    }

    private static readonly Dictionary<short, OpCode> OpCodeByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    private static IEnumerable<Type> FromIl(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodeByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, i);
                    MemberInfo? member = null;
                    try
                    {
                        member = method.Module.ResolveMember(token, typeArgs, methodArgs);
                    }
                    catch (ArgumentException)
                    {
                    }
                    if (member is Type t) yield return t;
                    else if (member?.DeclaringType is { } owner) yield return owner;
                    if (member is MethodInfo called)
                    {
                        yield return called.ReturnType;
                        foreach (var p in called.GetParameters()) yield return p.ParameterType;
                    }
                    i += 4;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + 4 * BitConverter.ToInt32(il, i);
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                default:
                    i += 4;
                    break;
            }
        }
    }

    /// <summary>Tarjan's strongly connected components.</summary>
    internal static List<List<string>> StronglyConnected(Dictionary<string, HashSet<string>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph.GetValueOrDefault(v) ?? [])
            {
                if (!index.TryGetValue(w, out var seen))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], seen);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            result.Add(component);
        }
        foreach (var v in graph.Keys.ToList()) if (!index.ContainsKey(v)) Visit(v);
        return result;
    }
}
