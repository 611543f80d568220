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
    public async Task Publish_AnInvalidEventAmongValidOnes_PublishesNothing_NamesFileLinePathAndRule()
    {
        var (_, lines, _) = await CliRunner.Run("events", "generate", "--type", "AbsenceReported", "--count", "3", "--seed", "8");
        var events = lines.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        events[1] = events[1].Replace("\"kind\":\"unauthorised\"", "\"kind\":\"truant\"", StringComparison.Ordinal).Replace("\"from\":", "\"fromm\":", StringComparison.Ordinal);
        var file = Path.Combine(_dir, "batch.jsonl");
        await File.WriteAllLinesAsync(file, events);

        // The broker port is closed: validation must refuse before any connection is tried.
        var (exit, output, error) = await CliRunner.Run("events", "publish", "--type", "AbsenceReported", file, "--RabbitMq:Port", "1");

        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains("batch.jsonl:2: absence.from: required", error);
        Assert.Contains("Nothing published: 1 of 3 event(s) invalid", error);
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("--type", "AbsenceReported")]
    [InlineData("--type", "all", "--generate", "3", "extra.json")]
    [InlineData("--type", "all", "extra.json")]
    [InlineData("--type", "AbsenceReported", "--generate", "0")]
    public async Task Publish_WithoutExactlyOneSource_IsAUsageError(params string[] args)
    {
        var existing = Path.Combine(_dir, "extra.json");
        await File.WriteAllTextAsync(existing, "{}");
        var (exit, _, error) = await CliRunner.Run(["events", "publish", .. args.Select(a => a == "extra.json" ? existing : a)]);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Matches("events publish|--generate", error);
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
