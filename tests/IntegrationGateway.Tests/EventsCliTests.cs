using IntegrationGateway.Gateway.Cli;
using IntegrationGateway.Gateway.Events;

namespace IntegrationGateway.Tests;

public sealed class EventsCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("events-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Generate_EveryType_OutputPassesValidate()
    {
        var (exit, _, _) = await CliRunner.Run("events", "generate", "--type", "all", "--count", $"{SampleEventGenerator.EventTypes.Count * 3}", "--seed", "9", "--out", _dir);
        Assert.Equal(ExitCodes.Ok, exit);

        var files = Directory.GetFiles(_dir, "*.json");
        Assert.Equal(SampleEventGenerator.EventTypes.Count * 3, files.Length);
        foreach (var file in files)
        {
            var type = Path.GetFileNameWithoutExtension(file).Split('-')[0];
            var (valid, output, _) = await CliRunner.Run("events", "validate", "--type", type, file);
            Assert.True(valid == ExitCodes.Ok, $"{Path.GetFileName(file)}: {output}");
        }
    }

    [Fact]
    public async Task Validate_InvalidEvent_ExitsOneWithPathAndRuleOnly()
    {
        var file = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(file, """{"eventId":"x","occurredAt":"2026-11-20T10:00:00Z","source":{"institutionId":"12AB","system":"s"},"jurisdiction":"NL","subject":{"localId":"1","bsn":"123456789","givenName":"Emma"},"absence":{"from":"2026-11-02","to":"2026-11-01","kind":"unauthorised"}}""");

        var (exit, output, _) = await CliRunner.Run("events", "validate", "--type", "AbsenceReported", file);

        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains("eventId: format-uuid", output);
        Assert.Contains("subject.bsn: bsn-checksum", output);
        Assert.Contains("absence.to: plausibility", output);
        Assert.DoesNotContain("123456789", output);
        Assert.DoesNotContain("Emma", output);
    }

    [Fact]
    public async Task Generate_SameSeed_SameEvents()
    {
        var (_, first, _) = await CliRunner.Run("events", "generate", "--type", "StudentEnrolled", "--count", "3", "--seed", "4");
        var (_, second, _) = await CliRunner.Run("events", "generate", "--type", "StudentEnrolled", "--count", "3", "--seed", "4");

        Assert.Equal(3, first.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(first.Split('\n')[0][..60], second.Split('\n')[0][..60]); // ids and names; times come from the clock
    }
}
