using IntegrationGateway.Gateway.Cli;

namespace IntegrationGateway.Tests;

public class GatewayCliTests
{
    static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await GatewayCli.InvokeAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Help_ListsTheVerbsAndSucceeds()
    {
        var (exit, output, _) = await Run("--help");

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("demo", output);
        Assert.Contains("run", output);
    }

    [Fact]
    public async Task DemoHelp_ListsItsOptions()
    {
        var (exit, output, _) = await Run("demo", "--help");

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("--exit-after-summary", output);
        Assert.Contains("--count", output);
    }

    [Theory]
    [InlineData("demo", "--count", "lots")]
    [InlineData("demo", "--count", "0")]
    [InlineData("demo", "--count")]
    public async Task MalformedOptions_AreAUsageError(params string[] args)
    {
        var (exit, _, error) = await Run(args);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("--count", error);
    }
}
