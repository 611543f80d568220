using System.Text.Json;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

public sealed class RouteConditionTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("agreements-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("""{"guardians":[{"givenName":"Piet"}]}""", true)]
    [InlineData("""{"guardians":[]}""", false)]
    [InlineData("""{"guardians":null}""", false)]
    [InlineData("""{}""", false)]
    public void Present_OnAList_HoldsOnlyWhenItHoldsSomething(string json, bool holds)
    {
        Assert.Equal(holds, new RouteCondition("guardians", null).HoldsFor(JsonDocument.Parse(json).RootElement));
    }

    [Fact]
    public void Lint_PresentOnAListByItsPlainName_IsAccepted_EqualsOnItIsNot()
    {
        File.WriteAllText(Path.Combine(_dir, "a.yaml"), TestAgreements.Yaml.Replace("purposes: [Testing]", "purposes: [Testing]\nwhen:\n  - path: guardians\n    present: true", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_dir, "b.yaml"), TestAgreements.Yaml.Replace("id: test-agreement", "id: b", StringComparison.Ordinal).Replace("purposes: [Testing]", "purposes: [Testing]\nwhen:\n  - path: guardians\n    equals: x", StringComparison.Ordinal));

        var (_, errors) = AgreementLinter.LoadAndLint(_dir, EventCatalogue.Default);

        var error = Assert.Single(errors);
        Assert.Contains("b.yaml", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("unknown-field", error.ToString(), StringComparison.Ordinal);
    }
}
