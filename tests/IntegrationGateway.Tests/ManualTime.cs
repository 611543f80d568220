namespace IntegrationGateway.Tests;

/// <summary>A clock the test moves by hand (Microsoft's FakeTimeProvider is not in the reachable registry).</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
