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

    [Theory]
    [InlineData("2009-01-02", true)]   // 17 on the day
    [InlineData("2008-12-01", false)]  // 18 that very day
    [InlineData("2008-11-30", false)]
    [InlineData("not a date", false)]
    [InlineData(null, false)]
    public void YoungerThan_OnTheDayTheEventOccurred(string? birthDate, bool holds)
    {
        var date = birthDate is null ? "null" : "\"" + birthDate + "\"";
        var body = JsonDocument.Parse("{\"occurredAt\":\"2026-12-01T09:00:00Z\",\"subject\":{\"birthDate\":" + date + "}}").RootElement;

        Assert.Equal(holds, new RouteCondition("subject.birthDate", null, 18).HoldsFor(body));
    }

    [Fact]
    public void YoungerThan_WithoutTheEventsMoment_DoesNotHold()
    {
        Assert.False(new RouteCondition("subject.birthDate", null, 18).HoldsFor(JsonDocument.Parse("""{"subject":{"birthDate":"2015-01-01"}}""").RootElement));
    }

    [Theory]
    [InlineData("    youngerThan: 18", 0)]
    [InlineData("    youngerThan: eighteen", 1)]
    [InlineData("    youngerThan: 18\n    present: true", 1)]
    public void Lint_YoungerThan_TakesWholeYears_AndStandsAlone(string condition, int errors)
    {
        File.WriteAllText(Path.Combine(_dir, "a.yaml"), TestAgreements.Yaml.Replace("purposes: [Testing]", "purposes: [Testing]\nwhen:\n  - path: subject.birthDate\n" + condition.Replace("\\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal));

        var (loaded, found) = AgreementLinter.LoadAndLint(_dir, EventCatalogue.Default);

        Assert.Equal(errors, found.Count);
        Assert.Equal(errors == 0 ? 18 : null, loaded.SingleOrDefault()?.When.Single().YoungerThanYears);
    }
}
