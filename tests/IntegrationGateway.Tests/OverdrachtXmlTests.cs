using System.Text;
using System.Xml.Linq;
using IntegrationGateway.Adapters;
using IntegrationGateway.Adapters.DepartementOnderwijs;

namespace IntegrationGateway.Tests;

public class OverdrachtXmlTests
{
    static readonly XNamespace Ns = OverdrachtXml.Namespace;

    [Fact]
    public void ToBytes_MapsTheRecordElementForProperty_ListsAsItems_NothingAdded()
    {
        var payload = """{"eventId":"e1","subject":{"rijksregisternummer":"85073003328"},"attendance":{"periods":[{"hours":3.5,"present":true},{"hours":2}],"note":null,"remark":"<b> & \"x\""}}""";
        var transfer = new OutboundTransfer("e1:agreement", Guid.Empty, "AttendanceRegistered", "agreement", Encoding.UTF8.GetBytes(payload));

        var xml = XDocument.Parse(Encoding.UTF8.GetString(OverdrachtXml.ToBytes(transfer)));

        var root = xml.Root!;
        Assert.Equal(Ns + "Overdracht", root.Name);
        Assert.Equal("agreement", (string?)root.Attribute("overeenkomst"));
        Assert.Equal("AttendanceRegistered", (string?)root.Attribute("gebeurtenis"));
        var record = root.Element(Ns + "Record")!;
        Assert.Equal("85073003328", (string?)record.Element(Ns + "subject")!.Element(Ns + "rijksregisternummer"));
        var periods = record.Element(Ns + "attendance")!.Element(Ns + "periods")!.Elements(Ns + "item").ToList();
        Assert.Equal(["3.5", "2"], periods.Select(p => (string)p.Element(Ns + "hours")!));
        Assert.Equal("true", (string?)periods[0].Element(Ns + "present"));
        Assert.Null(record.Element(Ns + "attendance")!.Element(Ns + "note")); // null is left out
        Assert.Equal("<b> & \"x\"", (string?)record.Element(Ns + "attendance")!.Element(Ns + "remark")); // escaped, read back whole
        Assert.Equal(["eventId", "subject", "attendance"], record.Elements().Select(e => e.Name.LocalName));
    }
}
