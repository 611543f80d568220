using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

public sealed class SubjectStateFileTests : IDisposable
{
    readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void For_SubjectKnownUnderSeveralKeys_MergesTowardStopping()
    {
        var e = new Gateway.Events.SampleEventGenerator(21, TimeProvider.System).NextAbsenceReported();
        File.WriteAllText(_file, $$"""
            { "subjects": [
              { "bsn": "{{e.Subject.Bsn}}", "consents": { "school-photos": "given", "newsletter": "given" } },
              { "institutionId": "{{e.Source.InstitutionId}}", "localId": "{{e.Subject.LocalId}}", "consents": { "school-photos": "withdrawn" }, "objection": true }
            ] }
            """);

        var state = SubjectStateFile.For(SubjectStateFile.Load(_file), EventJson.ToDocument(e).RootElement);

        Assert.True(state.Objected);
        Assert.False(state.Erased);
        Assert.Equal(ConsentStatus.Withdrawn, state.Consents["school-photos"]);
        Assert.Equal(ConsentStatus.Given, state.Consents["newsletter"]);
    }

    [Fact]
    public void Load_SameSubjectTwice_IsRefused()
    {
        File.WriteAllText(_file, """{ "subjects": [ { "bsn": "111222333", "erased": true }, { "bsn": "111222333" } ] }""");

        var ex = Assert.Throws<FormatException>(() => SubjectStateFile.Load(_file));

        Assert.Contains("subjects[1]", ex.Message);
    }
}
