using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

public sealed class AgreementLoaderTests : IDisposable
{
    const string Valid = TestAgreements.Yaml;

    readonly string _dir = Directory.CreateTempSubdirectory("agreements-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, string yaml)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void LoadDirectory_ShippedAgreements_LoadWithoutErrors()
    {
        var result = AgreementLoader.LoadDirectory(RepoPaths.Agreements);

        Assert.Empty(result.Errors);
        Assert.Contains(result.Agreements, a => a.Id == "duo-verzuimregister" && a.Recipient == "duo");
    }

    [Fact]
    public void LoadFile_ValidAgreement_ReadsEveryField()
    {
        var (agreement, errors) = AgreementLoader.LoadFile(Write("a.yaml", Valid));

        Assert.Empty(errors);
        Assert.NotNull(agreement);
        Assert.Equal(["AbsenceReported"], agreement.EventTypes);
        Assert.Equal(new LegalBasis("6(1)(c)", new LegalInstrument("law", "Test act", "art. 1")), agreement.LegalBasis);
        Assert.Equal(["eventId", "source.institutionId", "absence.from"], agreement.Fields.Paths);
        Assert.Equal(new Retention("P1Y", "transfer"), agreement.Retention);
        Assert.Equal(TransferRegion.Eea, agreement.Transfer);
        Assert.Equal(new DateOnly(2024, 1, 1), agreement.ValidFrom);
        Assert.Null(agreement.ValidUntil);
    }

    [Fact]
    public void LoadFile_UnknownKey_IsAnErrorOnItsLine()
    {
        var file = Write("a.yaml", Valid + "\nfeilds: [subject.givenName]\n");

        var (agreement, errors) = AgreementLoader.LoadFile(file);

        Assert.Null(agreement);
        var error = Assert.Single(errors);
        Assert.Equal("unknown-key", error.Rule);
        Assert.Equal(22, error.Line); // the 21-line fixture, then the typo
        Assert.Equal(file, error.File);
    }

    [Fact]
    public void LoadFile_NoLegalBasis_IsRefused()
    {
        var yaml = Valid.Replace("legalBasis:\n  gdpr: 6(1)(c)\n  instrument: { kind: law, citation: Test act, article: art. 1 }\n", "", StringComparison.Ordinal);

        var (agreement, errors) = AgreementLoader.LoadFile(Write("a.yaml", yaml));

        Assert.Null(agreement);
        var error = Assert.Single(errors);
        Assert.Equal("required", error.Rule);
        Assert.Contains("legalBasis", error.Message);
    }

    [Fact]
    public void LoadFile_ValidFromAfterValidUntil_IsAnErrorOnTheValidFromLine()
    {
        var (_, errors) = AgreementLoader.LoadFile(Write("a.yaml", Valid + "\nvalidUntil: 2023-12-31\n"));

        var error = Assert.Single(errors);
        Assert.Equal("validity-window", error.Rule);
        Assert.Equal(15, error.Line);
    }

    [Fact]
    public void LoadFile_MalformedFieldPath_IsAnError()
    {
        var (_, errors) = AgreementLoader.LoadFile(Write("a.yaml", Valid.Replace("absence.from", "absence..from", StringComparison.Ordinal)));

        Assert.Equal("field-path", Assert.Single(errors).Rule);
    }

    [Fact]
    public void LoadFile_UnterminatedList_IsAYamlError()
    {
        var (_, errors) = AgreementLoader.LoadFile(Write("a.yaml", "id: x\nfields: [a, b\nversion: 1\n"));

        Assert.Equal("yaml", Assert.Single(errors).Rule);
    }

    [Fact]
    public void LoadFile_BadIndentation_IsAYamlErrorOnItsLine()
    {
        var (_, errors) = AgreementLoader.LoadFile(Write("a.yaml", "id: x\nversion: 1\n  title: y\n"));

        var error = Assert.Single(errors);
        Assert.Equal("yaml", error.Rule);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void LoadDirectory_DuplicateIds_AreAnError()
    {
        Write("a.yaml", Valid);
        Write("b.yaml", Valid);

        var result = AgreementLoader.LoadDirectory(_dir);

        Assert.Equal("duplicate-id", Assert.Single(result.Errors).Rule);
    }

    [Fact]
    public void LoadDirectory_MissingFolder_IsAnErrorNamingIt()
    {
        var missing = Path.Combine(_dir, "nope");

        var result = AgreementLoader.LoadDirectory(missing);

        Assert.Equal(missing, Assert.Single(result.Errors).File);
    }

    [Fact]
    public void LoadDirectory_EmptyFolder_IsAnError()
    {
        Assert.Single(AgreementLoader.LoadDirectory(_dir).Errors);
    }
}
