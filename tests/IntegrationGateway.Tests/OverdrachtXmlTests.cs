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

    [Fact]
    public void ToBytes_NamesThatAreNoXmlNames_AreEncoded_NullItemsKeepTheirPlace()
    {
        var payload = """{"a b":1,"1x":{"list":["one",null,"three"]}}""";
        var transfer = new OutboundTransfer("k", Guid.Empty, "T", "agreement", Encoding.UTF8.GetBytes(payload));

        var record = XDocument.Parse(Encoding.UTF8.GetString(OverdrachtXml.ToBytes(transfer))).Root!.Element(Ns + "Record")!;

        Assert.Equal(["a_x0020_b", "_x0031_x"], record.Elements().Select(e => e.Name.LocalName));
        var items = record.Element(Ns + "_x0031_x")!.Element(Ns + "list")!.Elements(Ns + "item").ToList();
        Assert.Equal(3, items.Count);
        Assert.Equal("true", (string?)items[1].Attribute(XName.Get("nil", "http://www.w3.org/2001/XMLSchema-instance")));
    }

    [Fact]
    public void ToBytes_AControlCharacter_CannotBeCarried_AndSaysSo()
    {
        var transfer = new OutboundTransfer("k", Guid.Empty, "T", "agreement", Encoding.UTF8.GetBytes("""{"remark":"a\u0001b"}"""));

        Assert.ThrowsAny<ArgumentException>(() => OverdrachtXml.ToBytes(transfer));
    }
}
