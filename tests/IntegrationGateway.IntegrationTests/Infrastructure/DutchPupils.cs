using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>The generator's next Dutch enrolment: the one kind of event that reaches DUO, the officer, the GGD and the photographer.</summary>
internal static class DutchPupils
{
    public static StudentEnrolled NextDutchEnrolment(this SampleEventGenerator generator, bool withAddress = false)
    {
        StudentEnrolled enrolment;
        do
        {
            enrolment = (StudentEnrolled)generator.Next(nameof(StudentEnrolled));
        }
        while (enrolment.Jurisdiction != "NL" || (withAddress && enrolment.Subject.Address is null));

        return enrolment;
    }
}
