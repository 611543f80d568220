using IntegrationGateway.Gateway.Delivery;

namespace IntegrationGateway.Tests;

public class LedgerPathsTests
{
    [Fact]
    public void KnownPaths_KeepsTheContractsPaths_CountsMembersASenderAdded_NeverNamesThem()
    {
        // A sender may add members the contract does not have, named after anything, a person included.
        var paths = TransferPipeline.KnownPaths("AbsenceReported", ["subject.bsn", "guardians[].email", "jan.jansen@example.org", "subject.Jan Jansen"]);

        Assert.Equal(["subject.bsn", "guardians[].email", "(2 member(s) the contract does not have)"], paths);
    }
}
