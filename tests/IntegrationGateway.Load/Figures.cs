namespace IntegrationGateway.Load;

/// <summary>A latency distribution, in milliseconds.</summary>
internal sealed record Latency(double P50, double P95, double P99, double Max, int Count)
{
    public static Latency FromMicroseconds(long[] sorted) => new(
        Percentiles.Of(sorted, 0.50) / 1000.0, Percentiles.Of(sorted, 0.95) / 1000.0, Percentiles.Of(sorted, 0.99) / 1000.0,
        (sorted.Length == 0 ? 0 : sorted[^1]) / 1000.0, sorted.Length);
}

/// <summary>
/// One row of the report: a consumer draining one workload. CPU is per message, in microseconds, for each process
/// (the consumer itself, and the services and simulator it shares the machine with), over the measured window only.
/// </summary>
internal sealed record Row
{
    public required int Run { get; init; }

    public required string Consumer { get; init; }

    public required string Workload { get; init; }

    public required int Messages { get; init; }

    /// <summary>Deliveries to recipients (the gateway's transfers); 0 for the reference consumers.</summary>
    public int Transfers { get; init; }

    /// <summary>The ledger's chain lock over the whole drain (<see cref="LedgerLockSampler"/>); null for the reference consumers.</summary>
    public string? LedgerLock { get; init; }

    public required double Seconds { get; init; }

    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    public double TransfersPerSecond => Seconds > 0 ? Transfers / Seconds : 0;

    /// <summary>CPU µs per message by process: "consumer" (the gateway's replicas summed), "simulator", "rabbitmq", "postgres".</summary>
    public required Dictionary<string, double> CpuMicrosPerMessage { get; init; }

    public required double PeakRssMiB { get; init; }

    /// <summary>Of the machine's cores over the window: the share busy, and the share stolen by the hypervisor for other guests (noise).</summary>
    public double BusyShare { get; init; }

    public double StealShare { get; init; }

    /// <summary>Publish (or the drain's start, for a pre-filled queue) to settled, draining the backlog at full speed.</summary>
    public required Latency Drain { get; init; }

    /// <summary>Publish to settled, published at half the measured maximum rate; null where not measured.</summary>
    public Latency? Paced { get; init; }

    public double? PacedRate { get; init; }

    /// <summary>What was checked: every decision and receipt accounted for (the gateway), or the messages counted.</summary>
    public string Accounting { get; init; } = "";

    public bool Accounted { get; init; } = true;
}
