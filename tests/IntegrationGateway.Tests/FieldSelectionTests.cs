using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

public class FieldSelectionTests
{
    static readonly JsonObject Event = JsonNode.Parse("""
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
        """)!.AsObject();

    static JsonObject Project(params string[] paths) => FieldSelection.Parse(paths).Project(Event);

    [Fact]
    public void Project_LeafPaths_CopiesOnlyThoseLeaves()
    {
        var payload = Project("eventId", "subject.bsn", "absence.from");

        Assert.Equal(
            """{"eventId":"8d7f5c52-1a3e-4d0e-9f55-3c1f6b0a2e11","subject":{"bsn":"123456782"},"absence":{"from":"2026-11-02"}}""",
            payload.ToJsonString());
    }

    [Fact]
    public void Project_ArrayElementPath_KeepsOnlyThatPropertyOfEachElement()
    {
        var payload = Project("guardians[].email");

        // The second guardian has no e-mail: nothing of it is allowed, so it does not appear at all.
        Assert.Equal("""{"guardians":[{"email":"piet@example.nl"}]}""", payload.ToJsonString());
    }

    [Fact]
    public void Project_WholeObjectPath_CopiesEverythingBelowIt()
    {
        var payload = Project("subject.address");

        Assert.Equal("""{"subject":{"address":{"street":"Kerkstraat","postalCode":"3511 AB","city":"Utrecht"}}}""", payload.ToJsonString());
    }

    [Fact]
    public void Project_AllowedFieldMissingFromEvent_IsSimplyAbsent()
    {
        var payload = Project("subject.rijksregisternummer", "absence.hours");

        Assert.Equal("{}", payload.ToJsonString());
    }

    [Fact]
    public void Project_UnlistedFieldsNextToListedOnes_NeverAppear()
    {
        var payload = Project("subject.bsn", "subject.address.city");

        Assert.Equal("""{"subject":{"bsn":"123456782","address":{"city":"Utrecht"}}}""", payload.ToJsonString());
        Assert.DoesNotContain("unexpected", payload.ToJsonString());
    }

    [Fact]
    public void Project_ValueOfAnotherShapeThanAllowed_IsNotCopied()
    {
        var odd = JsonNode.Parse("""{"subject":"Emma de Vries, 123456782","guardians":{"email":"x@example.nl"}}""")!.AsObject();

        var payload = FieldSelection.Parse(["subject.bsn", "guardians[].email"]).Project(odd);

        Assert.Equal("{}", payload.ToJsonString());
    }

    [Fact]
    public void Project_DoesNotShareNodesWithTheEvent()
    {
        var payload = Project("subject.address");
        payload["subject"]!["address"]!["city"] = "changed";

        Assert.Equal("Utrecht", Event["subject"]!["address"]!["city"]!.GetValue<string>());
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
