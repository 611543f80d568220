using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using IntegrationGateway.Adapters;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Cli;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

/// <summary>
/// The shape the design asks for, checked on the compiled code, member signatures and method bodies alike: the
/// dependency direction (Contracts ← Adapters ← Gateway), a policy engine that knows nothing of brokers, databases or
/// HTTP, and classes small enough to read.
/// </summary>
public class ArchitectureTests
{
    static readonly Assembly Contracts = typeof(AbsenceReported).Assembly;
    static readonly Assembly Adapters = typeof(IRecipientAdapter).Assembly;
    static readonly Assembly Gateway = typeof(ExitCodes).Assembly;

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    static IEnumerable<string> ReferencedAssemblies(Assembly assembly) => assembly.GetReferencedAssemblies().Select(a => a.Name!);

    /// <summary>Every type a type's members name or its method bodies touch (calls, fields, objects made, types tested).</summary>
    static IEnumerable<Type> TypesUsedBy(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }

        foreach (var field in type.GetFields(all))
        {
            yield return field.FieldType;
        }

        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }

            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }

            foreach (var used in TypesInBody(method))
            {
                yield return used;
            }
        }
    }

    static IEnumerable<Type> TypesInBody(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        for (var i = 0; i < il.Length;)
        {
            var value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            var size = opCode.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, i)),
                _ => 4,
            };
            if (opCode.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                MemberInfo? member = null;
                try
                {
                    member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), method.DeclaringType?.GetGenericArguments(), method.IsGenericMethod ? method.GetGenericArguments() : null);
                }
                catch (ArgumentException)
                {
                    // a token of a generic context this simple reader does not follow
                }

                if (member is Type t)
                {
                    yield return t;
                }
                else if (member?.DeclaringType is { } declaring)
                {
                    yield return declaring;
                }
            }

            i += size;
        }
    }

    static IEnumerable<Type> Unwrap(Type type) =>
        type.HasElementType ? Unwrap(type.GetElementType()!)
        : type.IsGenericType ? type.GetGenericArguments().SelectMany(Unwrap).Prepend(type.GetGenericTypeDefinition())
        : [type];

    [Fact]
    public void Contracts_DependOnNothingButTheRuntime()
    {
        var references = ReferencedAssemblies(Contracts).Where(n => !n.StartsWith("System", StringComparison.Ordinal) && n != "netstandard");

        Assert.Empty(references);
    }

    [Fact]
    public void Policy_UsesNoBrokerDatabaseOrHttpType()
    {
        string[] banned = ["Npgsql", "RabbitMQ.Client", "System.Net.Http", "MassTransit"];
        var policyTypes = Gateway.GetTypes().Where(t => t.Namespace == typeof(PolicyEngine).Namespace).ToList();

        var offending = policyTypes
            .SelectMany(t => TypesUsedBy(t).SelectMany(Unwrap).Where(u => banned.Any(b => u.Namespace?.StartsWith(b, StringComparison.Ordinal) == true)).Select(u => $"{t.Name} uses {u.FullName}"))
            .Distinct().ToList();

        Assert.True(policyTypes.Count > 10, "the policy namespace was not found");
        Assert.True(offending.Count == 0, string.Join("; ", offending));
    }

    [Fact]
    public void Adapters_UseNothingOfTheGateway()
    {
        var offending = Adapters.GetTypes()
            .SelectMany(t => TypesUsedBy(t).SelectMany(Unwrap).Where(u => u.Assembly == Gateway || u.Namespace?.StartsWith("IntegrationGateway.Gateway", StringComparison.Ordinal) == true)
                .Select(u => $"{t.Name} uses {u.FullName}")
                .Concat(t.Namespace?.StartsWith("IntegrationGateway.Gateway", StringComparison.Ordinal) == true ? [$"{t.FullName} lives in the gateway's namespace"] : []))
            .Distinct().ToList();

        Assert.True(offending.Count == 0, string.Join("; ", offending));
    }

    [Fact]
    public void Classes_TakeAtMostEightCollaborators()
    {
        // Records that carry data are not collaborators; a service class with more than eight is two classes.
        var offending = new[] { Adapters, Gateway }.SelectMany(a => a.GetTypes())
            .Where(t => t.IsClass && !t.IsDefined(typeof(CompilerGeneratedAttribute)) && t.GetMethod("<Clone>$") is null)
            .SelectMany(t => t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Select(c => (Type: t, Count: c.GetParameters().Length)))
            .Where(c => c.Count > 8)
            .Select(c => $"{c.Type.FullName} takes {c.Count}")
            .ToList();

        Assert.True(offending.Count == 0, string.Join("; ", offending));
    }

    [Fact]
    public void Contracts_AreRecordsInTheFrozenNamespace()
    {
        var types = Contracts.GetExportedTypes();

        Assert.All(types, t =>
        {
            Assert.Equal("IntegrationGateway.Contracts", t.Namespace);
            Assert.NotNull(t.GetMethod("<Clone>$")); // compiler-generated on records only
        });
    }
}
