using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// A consent dated in the future (the intake allows a day of clock skew) does not outrank the withdrawal the person
/// makes after it: a change counts as of when it happened, but never later than when the gateway took it.
/// </summary>
[Trait("Tier", "Security")]
public sealed class FutureDatedConsentTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AWithdrawal_AfterAFutureDatedConsent_Stops_TheNextTransfer()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        // A synthetic school party to the consent-based photographer agreement (deploy/config/controllers/demo-school-b.yaml).
        var generator = new SampleEventGenerator(1805, TimeProvider.System) { DutchSchool = "23CD" };
        var first = generator.NextDutchEnrolment();
        var (person, source) = (first.Subject, first.Source);
        var now = TimeProvider.System.GetUtcNow();
        ConsentChanged Consent(string status, DateTimeOffset at) =>
            ((ConsentChanged)generator.Next(nameof(ConsentChanged))) with
            {
                Subject = person, Source = source, Jurisdiction = "NL", OccurredAt = at,
                Consent = new ConsentChange { Purpose = "school-photos", Status = status, ChangedOn = DateOnly.FromDateTime(now.UtcDateTime) },
            };

        await bed.Publisher.Publish(Consent("given", now.AddHours(20))); // a clock 20 hours fast, or a forged date
        await bed.WaitForTakenAsync(1);
        await bed.Publisher.Publish(Consent("withdrawn", TimeProvider.System.GetUtcNow()));
        await bed.WaitForTakenAsync(2);
        var enrolment = generator.NextDutchEnrolment() with { Subject = person, Source = source };
        await bed.Publisher.Publish(enrolment);
        await bed.WaitForReceiptsAsync("ggd", 1, TimeSpan.FromSeconds(30));
        await bed.WaitForTakenAsync(3);

        var decision = await LedgerDecision.OfAsync(enrolment.EventId, "schoolfotograaf");
        var (outcome, reasons) = (decision.Outcome, decision.Reasons);
        output.WriteLine($"consent given dated +20 h, then withdrawn now: the photographer's transfer {outcome} ({reasons}); received {bed.Receipts.List("schoolfotograaf").Count}");
        Assert.Equal(("blocked", "consent-withdrawn"), (outcome, reasons));
        Assert.Empty(bed.Receipts.List("schoolfotograaf"));
        output.WriteLine("attack: a future-dated consent outranking a later withdrawal: refused");
    }
}
