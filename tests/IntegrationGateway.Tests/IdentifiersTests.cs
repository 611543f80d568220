using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

/// <summary>
/// Each identifier's rule, with examples that pass and examples that fail it (computed by hand, see the comments), and
/// the intake's rule name for each failure: an onderwijsnummer is accepted where a BSN is, a BIS number is not taken for
/// a rijksregisternummer, and a sender is known by its BRIN, KvK, KBO or instellingsnummer.
/// </summary>
public sealed class IdentifiersTests
{
    [Theory]
    [InlineData("111222333", true)]   // 9+8+7+12+10+8+9+6 = 69; 69 − 3 = 66 = 6 × 11
    [InlineData("111252333", false)]  // 84 − 3 = 81, remainder 4
    [InlineData("101222331", false)]  // an onderwijsnummer (remainder 5), not a BSN
    [InlineData("000000000", false)]
    [InlineData("11122233", false)]   // eight digits
    public void Bsn_ElevenTest(string value, bool valid) => Assert.Equal(valid, SubjectIdentifiers.IsValidBsn(value));

    [Theory]
    [InlineData("101222331", true)]   // 9+0+7+12+10+8+9+6 = 61; 61 − 1 = 60, remainder 5 (python-stdnum's own example)
    [InlineData("100252333", false)]  // remainder 0: a BSN, not an onderwijsnummer
    [InlineData("211222337", false)]  // does not start with 10
    [InlineData("10122233", false)]   // eight digits
    public void Onderwijsnummer_ItsOwnCheck(string value, bool valid) => Assert.Equal(valid, SubjectIdentifiers.IsValidOnderwijsnummer(value));

    [Theory]
    [InlineData("85073003328", true, false)]   // 850730033 mod 97 = 69; 97 − 69 = 28; month 07
    [InlineData("17073003384", true, false)]   // born 2017: 2170730033 mod 97 = 13; 97 − 13 = 84
    [InlineData("85073003329", false, false)]  // wrong check
    [InlineData("98472899765", false, true)]   // month 47 = July + 40: a BIS number; 984728997 mod 97 = 32; 97 − 32 = 65
    [InlineData("01490700185", false, true)]   // born 2001, month 49 = September + 40: 2014907001 mod 97 = 12; 97 − 12 = 85
    public void RijksregisternummerAndBis_ToldApartByTheMonth(string value, bool rijksregisternummer, bool bis)
    {
        Assert.Equal(rijksregisternummer, SubjectIdentifiers.IsValidRijksregisternummer(value));
        Assert.Equal(bis, SubjectIdentifiers.IsValidBisNumber(value));
    }

    [Theory]
    [InlineData("kbo", "0507873093", true)]     // IN-Gent vzw: 05078730 mod 97 = 4; 97 − 4 = 93
    [InlineData("kbo", "0507.873.093", false)]  // one spelling: the sender's id is part of pseudonyms and the ledger
    [InlineData("kbo", "0507873094", false)]
    [InlineData("kbo", "2507873093", false)]    // starts with neither 0 nor 1
    [InlineData("kvk", "74378023", true)]       // CvOZ, seed 001
    [InlineData("kvk", "7437802", false)]
    [InlineData("brin", "12AB", true)]
    [InlineData("brin", "12AB01", true)]
    [InlineData("brin", "12KB1", false)]
    [InlineData("brin", "30AJ0A", false)]
    [InlineData("instellingsnummer", "030569", true)]
    [InlineData("instellingsnummer", "3056A9", false)]
    [InlineData("instellingsnummer", "1234567", false)]
    [InlineData("oin", "00000001003227376000", true)]
    [InlineData("oin", "0000000100322737600", false)]
    public void InstitutionIdentifiers_ByScheme(string scheme, string value, bool valid) =>
        Assert.Equal(valid, InstitutionIdentifiers.IsValid(scheme, value));

    [Theory]
    [InlineData("NL", "74378023", "kvk")]
    [InlineData("NL", "12AB", "brin")]
    [InlineData("BE-VLG", "0507873093", "kbo")]
    [InlineData("BE-VLG", "126151", "instellingsnummer")]
    [InlineData("BE-VLG", "74378023", null)]  // a KvK number is no Flemish identifier
    [InlineData("NL", "0507873093", null)]
    public void SchemeOf_BelongsToItsJurisdiction(string jurisdiction, string value, string? scheme) =>
        Assert.Equal(scheme, InstitutionIdentifiers.SchemeOf(jurisdiction, value));

    static readonly EventValidator Validator = new(TimeProvider.System);

    static JsonObject Sample(string type) =>
        System.Text.Json.JsonSerializer.SerializeToNode(new SampleEventGenerator(3, TimeProvider.System).Next(type), EventJson.ContractType(type), EventJsonContext.Default)!.AsObject();

    static IReadOnlyList<Violation> Validate(JsonObject e, string type) =>
        Validator.Validate(type, System.Text.Encoding.UTF8.GetBytes(e.ToJsonString()));

    [Fact]
    public void Intake_AcceptsAnOnderwijsnummerWhereABsnIs()
    {
        var e = Sample("StudentEnrolled");
        e["subject"]!.AsObject().Remove("bsn");
        e["subject"]!["onderwijsnummer"] = "101222331";
        Assert.Empty(Validate(e, "StudentEnrolled"));

        e["subject"]!["onderwijsnummer"] = "100252333";
        Assert.Contains(new Violation("subject.onderwijsnummer", "onderwijsnummer-checksum"), Validate(e, "StudentEnrolled"));

        e["subject"]!["onderwijsnummer"] = "101222331";
        e["subject"]!["bsn"] = "111222333";
        Assert.Contains(new Violation("subject.onderwijsnummer", "onderwijsnummer-with-bsn"), Validate(e, "StudentEnrolled"));
    }

    [Fact]
    public void Intake_RefusesABisNumberAsARijksregisternummer_AndTakesItAsABisNumber()
    {
        var e = Sample("IntegrationIntakeCompleted");
        e["subject"]!["rijksregisternummer"] = "98472899765";
        Assert.Contains(new Violation("subject.rijksregisternummer", "rijksregisternummer-checksum"), Validate(e, "IntegrationIntakeCompleted"));

        e["subject"]!.AsObject().Remove("rijksregisternummer");
        e["subject"]!["bisnummer"] = "98472899765";
        Assert.Empty(Validate(e, "IntegrationIntakeCompleted"));

        e["subject"]!["bisnummer"] = "85073003328";
        Assert.Contains(new Violation("subject.bisnummer", "bisnummer-checksum"), Validate(e, "IntegrationIntakeCompleted"));
    }

    [Theory]
    [InlineData("NL", "74378023", true)]        // the care centre's KvK number
    [InlineData("BE-VLG", "0507873093", true)]  // IN-Gent's KBO number
    [InlineData("BE-VLG", "0507873094", false)]
    [InlineData("BE-VLG", "0507.873.093", false)]
    [InlineData("NL", "12AB3", false)]
    public void Intake_KnowsSendersByTheirSchemes(string jurisdiction, string institutionId, bool valid)
    {
        var type = jurisdiction == "NL" ? "StudentEnrolled" : "IntegrationIntakeCompleted";
        var e = Sample(type);
        e["source"]!["institutionId"] = institutionId;
        var violations = Validate(e, type);
        Assert.Equal(valid, !violations.Contains(new Violation("source.institutionId", "institution-id")));
    }
}
