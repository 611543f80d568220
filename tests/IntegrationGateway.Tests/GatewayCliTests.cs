using IntegrationGateway.Gateway.Cli;

namespace IntegrationGateway.Tests;

public class GatewayCliTests
{
    [Theory]
    [InlineData("--id", "123456782")]
    [InlineData("--id=123456782")]
    public async Task SubjectReport_AnIdentifierOnTheCommandLine_IsRefused_WithoutRepeatingIt(params string[] given)
    {
        var (exit, stdout, stderr) = await CliRunner.Run(["subject", "report", .. given]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("standard input", stderr);
        Assert.DoesNotContain("123456782", stdout + stderr);
    }

    [Fact]
    public async Task Help_ListsTheVerbsAndSucceeds()
    {
        var (exit, output, _) = await CliRunner.Run("--help");

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("demo", output);
        Assert.Contains("run", output);
    }

    [Fact]
    public async Task DemoHelp_ListsItsOptions()
    {
        var (exit, output, _) = await CliRunner.Run("demo", "--help");

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("--exit-after-summary", output);
        Assert.Contains("--count", output);
    }

    [Theory]
    [InlineData("bogus-verb")]
    [InlineData("demo", "extra")]
    [InlineData("--RabbitMq:Port=1", "runn")]
    [InlineData("demo", "--exit-after-sumary")]
    [InlineData("--cout", "5")]
    public async Task UnknownVerbOrArgument_IsAUsageErrorAndStartsNothing(params string[] args)
    {
        var (exit, _, error) = await CliRunner.Run(args);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains($"'{args.First(a => a is "bogus-verb" or "extra" or "runn" or "--exit-after-sumary" or "--cout")}'", error);
    }

    [Theory]
    [InlineData(new string[0], null)]
    [InlineData(new[] { "--RabbitMq:Port=5672" }, null)]
    [InlineData(new[] { "--urls", "http://127.0.0.1:5071", "--Intake:QueueName=q" }, null)]
    [InlineData(new[] { "--urls", "http://127.0.0.1:5071", "oops" }, "oops")]
    public void FirstStrayToken_LetsHostSettingsThrough(string[] tokens, string? expected) =>
        Assert.Equal(expected, GatewayCli.FirstStrayToken(tokens));

    [Fact]
    public async Task Run_UnlawfulAgreement_RefusesToStartNamingFileLineAndRule()
    {
        var folder = Directory.CreateTempSubdirectory("agreements-").FullName;
        try
        {
            var file = Path.Combine(folder, "bad.yaml");
            await File.WriteAllTextAsync(file, TestAgreements.Yaml.Replace("  - absence.from", "  - absence.from\n  - subject.bsn", StringComparison.Ordinal));

            var (exit, _, error) = await CliRunner.Run("run", $"--Agreements:Directory={folder}");

            Assert.Equal(ExitCodes.Failed, exit);
            Assert.Contains("The gateway will not start", error);
            Assert.Contains($"{file}:15: [national-identifier]", error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void DemoOptions_ValidValues_ParseWithoutErrors()
    {
        var parse = GatewayCli.CreateRoot().Parse(["demo", "--simulator", "http://127.0.0.1:5080", "--count", "3", "--seed", "7", "--exit-after-summary"]);

        Assert.Empty(parse.Errors);
    }

    [Theory]
    [InlineData("demo", "--simulator", "not a url")]
    [InlineData("demo", "--timeout", "soon")]
    public async Task MalformedDemoOptions_AreAUsageErrorNamingTheOption(string verb, string option, string value)
    {
        var (exit, _, error) = await CliRunner.Run(verb, option, value);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(option, error);
    }

    [Theory]
    [InlineData("demo", "--count", "lots")]
    [InlineData("demo", "--count", "0")]
    [InlineData("demo", "--count")]
    public async Task MalformedOptions_AreAUsageError(params string[] args)
    {
        var (exit, _, error) = await CliRunner.Run(args);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("--count", error);
    }
}
