using System.Collections.Concurrent;
using IntegrationGateway.Adapters;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// Each recipient's health as the first attempts see it, so a failing or slow recipient costs the intake almost
/// nothing: <b>impaired</b> after two failures in a row (an error that means "try again", a timeout, no connection, a
/// 410) or one first attempt that outlasted <see cref="DeliveryOptions.FirstAttemptWait"/>; well again at the first
/// answer that came within it. While a recipient is impaired its first attempts are parked without being tried,
/// except one at a time, the probe, whose answer says when it is well again; the scheduler tries the parked ones.
/// </summary>
public sealed class RecipientBulkhead
{
    readonly ConcurrentDictionary<string, State> _states = new(StringComparer.Ordinal);

    sealed class State
    {
        public int FailuresRunning;
        public int Slow;
        public int Probing;
    }

    State Of(string recipient) => _states.GetOrAdd(recipient, _ => new State());

    public bool Impaired(string recipient) => _states.TryGetValue(recipient, out var s) && (Volatile.Read(ref s.FailuresRunning) >= 2 || Volatile.Read(ref s.Slow) == 1);

    /// <summary>Takes the recipient's one probe; false when another transfer is probing it now.</summary>
    public bool TryProbe(string recipient) => Interlocked.CompareExchange(ref Of(recipient).Probing, 1, 0) == 0;

    public void ProbeDone(string recipient) => Volatile.Write(ref Of(recipient).Probing, 0);

    /// <summary>A first attempt is still in flight after the wait: the recipient is slow.</summary>
    public void OutlastedTheWait(string recipient) => Volatile.Write(ref Of(recipient).Slow, 1);

    /// <summary>An attempt's result, and whether it came within the first attempt's wait.</summary>
    public void Answered(string recipient, DeliveryStatus status, bool inTime)
    {
        var state = Of(recipient);
        if (status is DeliveryStatus.Transient or DeliveryStatus.Gone)
        {
            Interlocked.Increment(ref state.FailuresRunning);
        }
        else if (inTime)
        {
            Volatile.Write(ref state.FailuresRunning, 0);
            Volatile.Write(ref state.Slow, 0);
        }
    }
}
