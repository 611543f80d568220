using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

public class LedgerPathsTests
{
    [Fact]
    public void LedgerPaths_ContractPathsFirst_ThenTheUndeclaredOnesAsClassifyMaskedThem()
    {
        var paths = TransferPipeline.LedgerPaths("AbsenceReported", ["subject.bsn", "absence.bsn", "guardians[].email", "subject.*"]);

        Assert.Equal(["subject.bsn", "guardians[].email", "absence.bsn", "subject.*"], paths);
    }

    [Fact]
    public void LedgerPaths_ManyUndeclaredMembers_NamesTheFirstAndCountsTheRest()
    {
        var undeclared = Enumerable.Range(0, TransferPipeline.MaxUndeclaredPaths + 5).Select(i => $"absence.extra{i}");

        var paths = TransferPipeline.LedgerPaths("AbsenceReported", ["subject.bsn", .. undeclared]);

        Assert.Equal(TransferPipeline.MaxUndeclaredPaths + 2, paths.Count);
        Assert.Equal("(5 more member(s) the contract does not declare)", paths[^1]);
    }

    [Theory]
    [InlineData("bsn", "bsn")]
    [InlineData("givenName", "givenName")]
    [InlineData("remark", "remark")]
    [InlineData("candidateBsn", "*")]
    [InlineData("pietersen", "*")]
    [InlineData("s0123456782", "*")]
    [InlineData("Jan Jansen", "*")]
    [InlineData("jan.jansen@example.org", "*")]
    [InlineData("123456782", "*")]
    [InlineData("", "*")]
    public void PathSegment_KeepsNamesAContractDeclares_MasksEverythingElse(string name, string recorded)
    {
        Assert.Equal(recorded, FieldSelection.PathSegment(name));
    }
}
