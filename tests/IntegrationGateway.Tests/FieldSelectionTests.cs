using System.Text;
using System.Text.Json;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

public class FieldSelectionTests
{
    static readonly JsonElement Event = JsonDocument.Parse("""
        {
          "eventId": "8d7f5c52-1a3e-4d0e-9f55-3c1f6b0a2e11",
          "subject": {
            "bsn": "123456782", "givenName": "Emma", "familyName": "de Vries",
            "address": { "street": "Kerkstraat", "postalCode": "3511 AB", "city": "Utrecht" },
            "unexpected": { "deep": { "secret": "x" } }
          },
          "guardians": [
            { "givenName": "Piet", "email": "piet@example.nl", "phone": "+31612345678" },
            { "givenName": "Anna", "phone": "+31687654321" }
          ],
          "absence": { "from": "2026-11-02", "to": "2026-11-03", "remark": "free text" }
        }
        """).RootElement;

    static string Project(params string[] paths) => Encoding.UTF8.GetString(FieldSelection.Parse(paths).Project(Event));

    static string ProjectJson(string json, params string[] paths) =>
        Encoding.UTF8.GetString(FieldSelection.Parse(paths).Project(JsonDocument.Parse(json).RootElement));

    [Fact]
    public void Project_LeafPaths_CopiesOnlyThoseLeaves()
    {
        var payload = Project("eventId", "subject.bsn", "absence.from");

        Assert.Equal(
            """{"eventId":"8d7f5c52-1a3e-4d0e-9f55-3c1f6b0a2e11","subject":{"bsn":"123456782"},"absence":{"from":"2026-11-02"}}""",
            payload);
    }

    [Fact]
    public void Project_ArrayElementPath_KeepsOnlyThatPropertyOfEachElement()
    {
        var payload = Project("guardians[].email");

        // The second guardian has no e-mail: nothing of it is allowed, so it does not appear at all.
        Assert.Equal("""{"guardians":[{"email":"piet@example.nl"}]}""", payload);
    }

    [Fact]
    public void Project_WholeObjectPath_CopiesEverythingBelowIt()
    {
        var payload = Project("subject.address");

        Assert.Equal("""{"subject":{"address":{"street":"Kerkstraat","postalCode":"3511 AB","city":"Utrecht"}}}""", payload);
    }

    [Fact]
    public void Project_AllowedFieldMissingFromEvent_IsSimplyAbsent()
    {
        var payload = Project("subject.rijksregisternummer", "absence.hours");

        Assert.Equal("{}", payload);
    }

    [Fact]
    public void Project_UnlistedFieldsNextToListedOnes_NeverAppear()
    {
        var payload = Project("subject.bsn", "subject.address.city");

        Assert.Equal("""{"subject":{"bsn":"123456782","address":{"city":"Utrecht"}}}""", payload);
        Assert.DoesNotContain("unexpected", payload);
    }

    [Fact]
    public void Project_ValueOfAnotherShapeThanAllowed_IsNotCopied()
    {
        var payload = ProjectJson("""{"subject":"Emma de Vries, 123456782","guardians":{"email":"x@example.nl"}}""", "subject.bsn", "guardians[].email");

        Assert.Equal("{}", payload);
    }

    [Fact]
    public void Project_WholeArrayPath_CopiesEachNonNullElement()
    {
        var payload = ProjectJson("""{"tags":["a",null,{"b":1}],"other":1}""", "tags[]");

        Assert.Equal("""{"tags":["a",{"b":1}]}""", payload);
    }

    [Fact]
    public void Project_NullValuesAndElements_AreLeftOut()
    {
        var payload = ProjectJson("""{"subject":{"bsn":null,"email":"e@example.nl"},"guardians":[null,{"email":null}]}""", "subject.bsn", "subject.email", "guardians[].email");

        Assert.Equal("""{"subject":{"email":"e@example.nl"}}""", payload);
    }

    [Fact]
    public void Project_NestedArrayUnderAPartialPath_IsNotCopied()
    {
        var payload = ProjectJson("""{"guardians":[[{"email":"x@example.nl"}]]}""", "guardians[].email");

        Assert.Equal("{}", payload);
    }

    [Fact]
    public void Classify_SplitsEveryLeafIntoDisclosedAndWithheld()
    {
        var disclosed = new SortedSet<string>(StringComparer.Ordinal);
        var withheld = new SortedSet<string>(StringComparer.Ordinal);

        FieldSelection.Parse(["subject.bsn", "guardians[].email"]).Classify(Event, disclosed, withheld);

        Assert.Equal(["guardians[].email", "subject.bsn"], disclosed);
        Assert.Contains("guardians[].phone", withheld);
        Assert.Contains("subject.unexpected.deep.secret", withheld);
        Assert.Contains("absence.remark", withheld);
        Assert.DoesNotContain("subject.bsn", withheld);
    }

    [Theory]
    [InlineData("subject..bsn")]
    [InlineData("subject.b-sn")]
    [InlineData("")]
    [InlineData("guardians[0].email")]
    public void Parse_MalformedPath_ThrowsNamingThePath(string path)
    {
        var ex = Assert.Throws<FormatException>(() => FieldSelection.Parse([path]));

        Assert.Contains($"'{path}'", ex.Message);
    }

    [Fact]
    public void Parse_SameNameAsArrayAndAsValue_Throws()
    {
        Assert.Throws<FormatException>(() => FieldSelection.Parse(["guardians[].email", "guardians.email"]));
    }
}
