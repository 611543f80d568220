namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>The gateway's command line as an operator uses it, in process: arguments in, exit code and text out.</summary>
internal static class GatewayCommandLine
{
    public static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => RunWithInputAsync("", args);

    /// <summary>The same, with <paramref name="input"/> on standard input (an identifier or secret, as an operator types or pipes it).</summary>
    public static async Task<(int Exit, string Out, string Err)> RunWithInputAsync(string input, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var stdin = new StringReader(input);
        var exit = await Gateway.Cli.GatewayCli.InvokeAsync(args, stdout, stderr, stdin);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The settings a verb needs to reach this test's broker, intake and seal.</summary>
    public static string[] BrokerSettings(TestBed bed) =>
    [
        "--RabbitMq:Host", TestServices.RabbitHost, "--RabbitMq:Port", TestServices.RabbitPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--RabbitMq:VirtualHost", TestServices.VirtualHost,
        "--RabbitMq:Username", TestServices.RabbitUser, "--RabbitMq:Password", TestServices.RabbitPassword, "--Intake:QueueName", bed.QueueName,
        "--Sealing:Key", TestServices.SealingKey,
        "--Controllers:Directory", RepoPaths.Controllers, "--Publishers:SecretsDirectory", TestServices.PublisherSecrets,
        "--Quarantine:Republisher:Username", TestServices.RepublisherUser, "--Quarantine:Republisher:Password", TestServices.RepublisherPassword,
    ];

    /// <summary>The settings a verb needs to reach the tests' database and ledger.</summary>
    public static string[] DatabaseSettings =>
        ["--ConnectionStrings:Gateway", TestServices.DatabaseConnectionString, "--Ledger:Key", TestServices.LedgerKey];
}
