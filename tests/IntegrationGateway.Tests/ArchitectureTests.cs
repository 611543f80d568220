using System.Reflection;
using IntegrationGateway.Adapters;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Cli;

namespace IntegrationGateway.Tests;

/// <summary>The dependency direction: Contracts ← Adapters ← Gateway, never backwards.</summary>
public class ArchitectureTests
{
    static IEnumerable<string> ReferencedAssemblies(Assembly assembly) => assembly.GetReferencedAssemblies().Select(a => a.Name!);

    [Fact]
    public void Contracts_DependOnNothingButTheRuntime()
    {
        var references = ReferencedAssemblies(typeof(AbsenceReported).Assembly).Where(n => !n.StartsWith("System", StringComparison.Ordinal) && n != "netstandard");

        Assert.Empty(references);
    }

    [Fact]
    public void Adapters_NeverReferenceTheGateway()
    {
        Assert.DoesNotContain(typeof(ExitCodes).Assembly.GetName().Name, ReferencedAssemblies(typeof(IRecipientAdapter).Assembly));
    }

    [Fact]
    public void Contracts_AreRecordsInTheFrozenNamespace()
    {
        var types = typeof(AbsenceReported).Assembly.GetExportedTypes();

        Assert.All(types, t =>
        {
            Assert.Equal("IntegrationGateway.Contracts", t.Namespace);
            Assert.NotNull(t.GetMethod("<Clone>$")); // compiler-generated on records only
        });
    }
}
