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

    // The event above is an AbsenceReported with members its contract does not declare (subject.unexpected,
    // absence.remark is declared): the projection binds the allow-list to that contract.
    const string Type = "AbsenceReported";

    static string Project(params string[] paths) => Encoding.UTF8.GetString(FieldSelection.Parse(paths).Project(Type, Event, reference: null));

    static string ProjectJson(string json, params string[] paths) => ProjectJsonAs(Type, json, paths);

    static string ProjectJsonAs(string type, string json, params string[] paths) =>
        Encoding.UTF8.GetString(FieldSelection.Parse(paths).Project(type, JsonDocument.Parse(json).RootElement, reference: null));

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
    public void Project_WholeObjectPath_CopiesTheContractsMembersBelowIt()
    {
        var payload = Project("subject.address");

        Assert.Equal("""{"subject":{"address":{"street":"Kerkstraat","postalCode":"3511 AB","city":"Utrecht"}}}""", payload);
    }

    [Fact]
    public void Project_WholeObjectPath_LeavesOutMembersTheContractDoesNotDeclare()
    {
        var payload = ProjectJson(
            """{"subject":{"address":{"city":"Utrecht","candidateBsn":"123456782","geo":{"lat":52.1}}},"absence":{"from":"2026-11-02","note":"free text","kind":{"code":"x"}}}""",
            "subject.address", "absence");

        Assert.Equal("""{"subject":{"address":{"city":"Utrecht"}},"absence":{"from":"2026-11-02"}}""", payload);
    }

    [Fact]
    public void Project_WholeEvent_IsTheContractShapeOnly()
    {
        var payload = ProjectJsonAs("ExamResultRecorded",
            """{"eventId":"e","extra":1,"exam":{"subjectCode":"ne","grade":7.5,"candidateBsn":"123456782","candidateName":"Emma"},"guardians":[{"email":"p@example.nl","bsn":"1"}]}""",
            "eventId", "exam", "guardians");

        Assert.Equal("""{"eventId":"e","guardians":[{"email":"p@example.nl"}],"exam":{"subjectCode":"ne","grade":7.5}}""", payload);
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
    public void Project_ListOfValues_CopiesEachValueElementOnly()
    {
        var payload = ProjectJsonAs("SupportPlanUpdated", """{"supportPlan":{"arrangements":["extra time",null,{"b":1},["c"],3]},"other":1}""", "supportPlan.arrangements[]");

        Assert.Equal("""{"supportPlan":{"arrangements":["extra time",3]}}""", payload);
    }

    [Fact]
    public void Project_ObjectOrArrayWhereTheContractHasAValue_IsNotCopied()
    {
        var payload = ProjectJson("""{"subject":{"bsn":{"value":"123456782"},"givenName":["Emma"],"familyName":"de Vries"}}""", "subject");

        Assert.Equal("""{"subject":{"familyName":"de Vries"}}""", payload);
    }

    [Fact]
    public void Project_EventTypeNoContractHas_DisclosesNothing()
    {
        Assert.Equal("{}", ProjectJsonAs("NoSuchEvent", """{"eventId":"e"}""", "eventId"));
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

        FieldSelection.Parse(["subject.bsn", "guardians[].email", "subject"]).Classify(Type, Event, disclosed, withheld);

        Assert.Equal(["guardians[].email", "subject.address.city", "subject.address.postalCode", "subject.address.street", "subject.bsn", "subject.familyName", "subject.givenName"], disclosed);
        Assert.Contains("guardians[].phone", withheld);
        Assert.Contains("subject.*.*.*", withheld); // inside an object allowed whole, and still withheld (names no contract declares, masked)
        Assert.Contains("absence.remark", withheld);
        Assert.DoesNotContain("subject.bsn", withheld);
    }

    [Fact]
    public void Classify_MemberNamedLikeAPerson_IsRecordedMasked()
    {
        var withheld = new SortedSet<string>(StringComparer.Ordinal);

        FieldSelection.Parse(["subject"]).Classify(Type, JsonDocument.Parse("""{"subject":{"Jan Jansen":{"jan@example.nl":1},"bsn":"123456782"}}""").RootElement, new SortedSet<string>(), withheld);

        Assert.Equal(["subject.*.*"], withheld);
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
    [Fact]
    public void Project_WithARecipientsReference_WritesItInPlaceOfTheEventsId_AndNowhereElse()
    {
        var reference = Guid.Parse("0f9a1c2e-5b7d-8e4f-a1b2-c3d4e5f60718");
        var selection = FieldSelection.Parse(["eventId", "subject.bsn"]);

        var payload = Encoding.UTF8.GetString(selection.Project(Type, Event, reference));
        var without = Encoding.UTF8.GetString(FieldSelection.Parse(["subject.bsn"]).Project(Type, Event, reference));

        Assert.Equal("""{"eventId":"0f9a1c2e-5b7d-8e4f-a1b2-c3d4e5f60718","subject":{"bsn":"123456782"}}""", payload);
        Assert.DoesNotContain("8d7f5c52", payload, StringComparison.Ordinal);
        Assert.Equal("""{"subject":{"bsn":"123456782"}}""", without); // not allowed: no reference either
        // Projected again (a parked transfer decided again), the reference stays what it was.
        Assert.Equal(payload, Encoding.UTF8.GetString(selection.Project(Type, JsonDocument.Parse(payload).RootElement, reference)));
    }
}
