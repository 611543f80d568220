using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace IntegrationGateway.Adapters.DepartementOnderwijs;

/// <summary>
/// Reads an XML transfer (the department's <c>Overdracht</c>) into the same JSON shape the other recipients get,
/// so receipts, allow-list checks and summaries treat both alike. Leaf values stay text.
/// </summary>
public sealed class OverdrachtXmlDecoder : IWireFormatDecoder
{
    public string Format => "xml";

    public bool Reads(string? contentType) => contentType?.Contains("xml", StringComparison.OrdinalIgnoreCase) == true;

    public JsonNode Decode(byte[] body)
    {
        using var stream = new MemoryStream(body);
        var root = XDocument.Load(stream, LoadOptions.None).Root ?? throw new FormatException("no root element");
        var record = root.Elements().FirstOrDefault(e => e.Name.LocalName == "Record") ?? throw new FormatException("no Record element");
        return new JsonObject
        {
            ["agreement"] = (string?)root.Attribute("overeenkomst"),
            ["eventType"] = (string?)root.Attribute("gebeurtenis"),
            ["record"] = Node(record),
        };
    }

    static JsonNode? Node(XElement element)
    {
        if ((string?)element.Attribute(XName.Get("nil", "http://www.w3.org/2001/XMLSchema-instance")) == "true")
        {
            return null;
        }

        if (!element.HasElements)
        {
            return element.Value;
        }

        var children = element.Elements().ToList();
        if (children.All(c => c.Name.LocalName == "item"))
        {
            return new JsonArray([.. children.Select(Node)]);
        }

        var obj = new JsonObject();
        foreach (var child in children)
        {
            obj[System.Xml.XmlConvert.DecodeName(child.Name.LocalName)] = Node(child);
        }

        return obj;
    }
}
