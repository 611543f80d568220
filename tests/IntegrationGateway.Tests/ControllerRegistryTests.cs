using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.Tests;

/// <summary>The controller registry: the shipped files are clean and real-shaped, each rule refuses what it is about, and authentication asks both the user and the id.</summary>
public sealed class ControllerRegistryTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("controllers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string School = TestAgreements.ControllerYaml("school-a", "duo-verzuimregister");

    IReadOnlyList<AgreementError> Lint(params (string Name, string Yaml)[] files)
    {
        foreach (var (name, yaml) in files)
        {
            File.WriteAllText(Path.Combine(_dir, name + ".yaml"), yaml);
        }

        return GatewayPolicy.LoadAndLint(RepoPaths.Agreements, _dir, EventCatalogue.Default).Errors;
    }

    [Fact]
    public void Shipped_AreClean_AndHoldTheFiveSeedOrganisations()
    {
        var (policy, errors) = GatewayPolicy.LoadAndLint(RepoPaths.Agreements, RepoPaths.Controllers, EventCatalogue.Default);

        Assert.Empty(errors);
        var real = policy.Controllers.All.Where(c => !c.Synthetic).ToDictionary(c => c.Id);
        Assert.Equal(["cvo-focus", "cvoz", "in-gent", "onderwijs-pro", "school-003"], real.Keys.Order());
        Assert.Equal("74378023", Assert.Single(real["cvoz"].Identifiers).Value);           // seed 001
        Assert.Equal(("kbo", "0507873093"), (real["in-gent"].Identifiers[0].Scheme, real["in-gent"].Identifiers[0].Value)); // seed 002
        Assert.Equal("care-provider", real["cvoz"].Kind);
        Assert.Equal("course-provider", real["onderwijs-pro"].Kind);
        Assert.NotEmpty(real["in-gent"].JointControllers);
    }

    public static TheoryData<string, string, string> Broken => new()
    {
        // rule, text to replace in School, replacement
        { "identifier", "value: \"12AB\"", "value: \"12AB3\"" },
        { "identifier", "scheme: brin\n    value: \"12AB\"", "scheme: kbo\n    value: \"0507873093\"" }, // a Flemish scheme for a Dutch school
        { "identifier", "scheme: brin", "scheme: ssn" },
        { "controller-kind", "kind: secondary-school", "kind: school" },
        { "controller-id", "id: school-a", "id: School_A" },
        { "controller-id", "id: school-a", "id: school-b" }, // not the file's name
        { "dpo", "email: dpo@example.org", "email: nobody" },
        { "broker-user", "brokerUsers: [school-a]", "brokerUsers: [School A]" },
        { "party", "agreements: [duo-verzuimregister]", "agreements: [no-such-agreement]" },
        { "party", "agreements: [duo-verzuimregister]", "agreements: [agii-kruispuntbank-inburgering]" }, // of BE-VLG
        { "party", "kind: secondary-school", "kind: course-provider" }, // duo-verzuimregister names schools as its senders
        { "unknown-key", "legalName: Test school school-a", "legalName: Test school school-a\nbrin: 12AB" },
        { "required", "brokerUsers: [school-a]\n", "" },
    };

    [Fact]
    public void TheBaseFile_IsClean_SoEachBrokenRowFailsForItsOwnReason() =>
        // Alone in the registry, so an agreement naming a shipped controller in its senders is reported there; not here.
        Assert.DoesNotContain(Lint(("school-a", School)), e => e.File.EndsWith("school-a.yaml", StringComparison.Ordinal));

    [Fact]
    public void TheGatewaysOwnBrokerUser_CannotPublishForAController()
    {
        File.WriteAllText(Path.Combine(_dir, "school-a.yaml"), School.Replace("brokerUsers: [school-a]", "brokerUsers: [gateway]", StringComparison.Ordinal));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agreements:Directory"] = RepoPaths.Agreements, ["Controllers:Directory"] = _dir, ["RabbitMq:Username"] = "gateway",
        }).Build();

        var refused = Assert.Throws<AgreementsInvalidException>(() => { new ServiceCollection().AddGatewayPolicy(configuration); });
        Assert.Contains(refused.Errors, e => e.Rule == "broker-user" && e.Message.Contains("gateway's own broker user", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void EachRule_RefusesWhatItIsAbout(string rule, string find, string replace)
    {
        var errors = Lint(("school-a", School.Replace(find, replace, StringComparison.Ordinal)));

        Assert.Contains(errors, e => e.Rule == rule && e.File.EndsWith("school-a.yaml", StringComparison.Ordinal));
    }

    [Fact]
    public void TwoControllers_CannotShareABrokerUserOrAnIdentifier()
    {
        var errors = Lint(("school-a", School), ("school-b", School.Replace("id: school-a", "id: school-b", StringComparison.Ordinal)));

        Assert.Contains(errors, e => e.Rule == "broker-user" && e.Message.Contains("already publishes for 'school-a'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Rule == "identifier" && e.Message.Contains("already identifies 'school-a'", StringComparison.Ordinal));
    }

    [Fact]
    public void Authenticate_NeedsTheUserOfTheControllerTheEventNames()
    {
        var registry = TestAgreements.Shipped;

        Assert.Equal("school-003", registry.Authenticate("school-003-magister", "12AB")?.Id);
        Assert.Equal("in-gent", registry.Authenticate("in-gent-kbi", "0507873093")?.Id);
        Assert.Null(registry.Authenticate("in-gent-kbi", "0507.873.093"));        // one spelling (the intake refuses this one first)
        Assert.Equal("cvoz", registry.Authenticate("cvoz-clientdossier", "74378023")?.Id);
        Assert.Null(registry.Authenticate("school-003-magister", "23CD"));  // another controller's school
        Assert.Null(registry.Authenticate(null, "12AB"));                   // no user_id
        Assert.Null(registry.Authenticate("gateway", "12AB"));              // not a publisher
        Assert.Null(registry.Authenticate("SCHOOL-003-MAGISTER", "12AB"));  // user names are exact
        Assert.Null(registry.Authenticate("school-003-magister", "12ab"));  // and so are ids
        Assert.Null(registry.Authenticate("school-003-magister", null));
    }
}
