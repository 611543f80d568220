using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using Npgsql;

namespace IntegrationGateway.Gateway.Demo;

/// <summary>
/// What gateways running elsewhere (<c>deploy/compose</c>'s replicas, a Kubernetes Deployment) did with the demo's
/// events, from what they share: the database (the intake's memory of each event, the ledger's decisions and outcomes)
/// and the broker (the quarantine's depth). Whichever replica settled an event, it is counted once.
/// </summary>
internal sealed class RunningGateways(NpgsqlDataSource database, RabbitMqOptions broker, IntakeOptions intake) : IAsyncDisposable
{
    RabbitMQ.Client.IConnection? _connection;
    RabbitMQ.Client.IChannel? _channel;

    /// <summary>Of these events, those an intake marked settled (its ledger entries committed with the mark).</summary>
    public async Task<long> SettledAsync(Guid[] eventIds, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT count(*) FROM intake_event WHERE event_id = ANY($1) AND settled_at IS NOT NULL");
        command.Parameters.Add(new() { Value = eventIds });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Messages in the intake's quarantine now (the broker's count), over one connection kept for the run; null while
    /// that connection recovers (its node went down: it reconnects to another by itself).
    /// </summary>
    public async Task<long?> QuarantinedAsync(CancellationToken cancellationToken)
    {
        try
        {
            _connection ??= await RabbitMqConnections.OpenAsync(broker, "integration-gateway-demo", cancellationToken);
            _channel ??= await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
            return await _channel.MessageCountAsync(IntakeTopology.QuarantineQueue(intake), cancellationToken);
        }
        catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.AlreadyClosedException or RabbitMQ.Client.Exceptions.OperationInterruptedException
                                       or RabbitMQ.Client.Exceptions.BrokerUnreachableException or IOException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    /// <summary>
    /// Per recipient, each transfer of these events by where it stands now: its latest outcome in the ledger, else its
    /// decision's (what the gateway's own counters count when it settles them itself).
    /// </summary>
    public async Task<CountersSnapshot> OutcomesAsync(Guid[] eventIds, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            SELECT d.recipient, coalesce(o.outcome, d.outcome), count(*)
            FROM ledger_entry d
            LEFT JOIN LATERAL (
                SELECT outcome FROM ledger_entry o
                WHERE o.kind = 'outcome' AND o.event_id = d.event_id AND o.agreement_id = d.agreement_id
                ORDER BY o.seq DESC LIMIT 1) o ON true
            WHERE d.kind = 'decision' AND d.event_id = ANY($1)
            GROUP BY 1, 2
            """);
        command.Parameters.Add(new() { Value = eventIds });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var transfers = new Dictionary<(string Recipient, TransferOutcome Outcome), long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = (reader.GetString(0), TransferSettler.OutcomeOf(reader.GetString(1)));
            transfers[key] = transfers.GetValueOrDefault(key) + reader.GetInt64(2);
        }

        return new CountersSnapshot(await SettledAsync(eventIds, cancellationToken), 0, transfers);
    }
}
