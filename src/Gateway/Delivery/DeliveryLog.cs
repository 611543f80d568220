using System.Collections.Concurrent;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// The settler's log lines: ids, recipients, agreements and status codes, never a value. A delivery is a line at
/// information; a parked transfer is a line at debug only, and a summary per recipient at warning: at once for the
/// first after a quiet spell, then at most one per <see cref="SummaryInterval"/> with the count and the last problem,
/// so a recipient down for an hour writes a few hundred lines, not one per transfer.
/// </summary>
public sealed partial class DeliveryLog : IDisposable
{
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    readonly ILogger _logger;
    readonly ConcurrentDictionary<string, Parked> _parked = new(StringComparer.Ordinal);
    readonly ITimer _timer;

    sealed class Parked
    {
        public long Count;
        public string? LastProblem;
        public bool Quiet = true;
    }

    public DeliveryLog(ILogger<TransferSettler> logger, TimeProvider time)
    {
        _logger = logger;
        _timer = time.CreateTimer(_ => Flush(), null, SummaryInterval, SummaryInterval);
    }

    public void Delivered(Guid eventId, string agreementId, string recipient, int? statusCode, int attempt) =>
        LogDelivered(eventId, agreementId, recipient, statusCode, attempt);

    public void Rejected(Guid eventId, string agreementId, string recipient, string? problem) =>
        LogRejected(eventId, agreementId, recipient, problem);

    public void BlockedLater(Guid eventId, string agreementId, string recipient, string reasons) =>
        LogBlockedLater(eventId, agreementId, recipient, reasons);

    /// <summary>A transfer parked for a later try: a debug line; the recipient's summary counts it.</summary>
    public void Parking(Guid eventId, string agreementId, string recipient, string? problem, double delaySeconds, int attempt)
    {
        LogParked(eventId, agreementId, recipient, problem, delaySeconds, attempt);
        var parked = _parked.GetOrAdd(recipient, _ => new Parked());
        bool first;
        lock (parked)
        {
            parked.LastProblem = problem;
            first = parked.Quiet;
            parked.Quiet = false;
            if (!first)
            {
                parked.Count++;
            }
        }

        if (first)
        {
            LogParkingBegan(recipient, problem);
        }
    }

    /// <summary>One line per recipient that parked more since the last summary; a recipient that parked nothing for a whole interval is quiet again.</summary>
    void Flush()
    {
        foreach (var (recipient, parked) in _parked)
        {
            long count;
            string? problem;
            lock (parked)
            {
                (count, problem) = (parked.Count, parked.LastProblem);
                parked.Count = 0;
                parked.Quiet = count == 0;
            }

            if (count > 0)
            {
                LogParkedSummary(recipient, count, SummaryInterval.TotalSeconds, problem);
            }
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        Flush();
    }

    // Debug: one line per transfer would be most of the gateway's output, and cost; the ledger, the metrics and the
    // ops app hold each delivery. Failures and parking are warnings (summarised per recipient).
    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId}: delivered to {Recipient} under {AgreementId} ({StatusCode}, attempt {Attempt})")]
    partial void LogDelivered(Guid eventId, string agreementId, string recipient, int? statusCode, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: {Recipient} rejected the transfer under {AgreementId}: {Problem}; kept as rejected for an operator")]
    partial void LogRejected(Guid eventId, string agreementId, string recipient, string? problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId}: transfer to {Recipient} under {AgreementId} parked ({Problem}, attempt {Attempt}); next try in {DelaySeconds:0} s")]
    partial void LogParked(Guid eventId, string agreementId, string recipient, string? problem, double delaySeconds, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Recipient}: transfers are being parked ({Problem}); the scheduler tries them again. Summarised every 10 s while it lasts")]
    partial void LogParkingBegan(string recipient, string? problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Recipient}: {Count} more transfer(s) parked in the last {Seconds:0} s (last: {Problem})")]
    partial void LogParkedSummary(string recipient, long count, double seconds, string? problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: the transfer to {Recipient} still in flight when it was parked could not be settled ({ExceptionType}); it is tried again when its lease is given back or taken over")]
    public partial void UnsettledInFlight(Guid eventId, string recipient, string exceptionType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: parked transfer to {Recipient} under {AgreementId} decided again and blocked ({Reasons}); not sent")]
    partial void LogBlockedLater(Guid eventId, string agreementId, string recipient, string reasons);
}
