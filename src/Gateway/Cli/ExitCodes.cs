namespace IntegrationGateway.Gateway.Cli;

/// <summary>Exit codes scripts can rely on, the same for every verb.</summary>
public static class ExitCodes
{
    /// <summary>The verb did what it was asked; checks passed.</summary>
    public const int Ok = 0;

    /// <summary>The verb ran and found a problem (a failed check, an invalid agreement, undelivered events), or could not start.</summary>
    public const int Failed = 1;

    /// <summary>The command line itself was wrong: unknown verb or option, missing or malformed value.</summary>
    public const int Usage = 2;
}
