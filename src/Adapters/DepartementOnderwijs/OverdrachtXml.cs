using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Xml;

namespace IntegrationGateway.Adapters.DepartementOnderwijs;

/// <summary>
/// The department's wire format: the minimised record as XML, element for property, nothing added from outside it.
/// <code>
/// &lt;Overdracht xmlns="urn:integrationgateway:departement-onderwijs:v1" overeenkomst="..." gebeurtenis="StudentEnrolled"&gt;
///   &lt;Record&gt;&lt;eventId&gt;...&lt;/eventId&gt;&lt;subject&gt;&lt;rijksregisternummer&gt;...&lt;/rijksregisternummer&gt;&lt;/subject&gt;...&lt;/Record&gt;
/// &lt;/Overdracht&gt;
/// </code>
/// A list becomes repeated <c>item</c> elements inside the property's element (a null item as
/// <c>xsi:nil="true"</c>, so positions hold); a null property is left out. A property name that is no XML name is
/// encoded as <see cref="XmlConvert.EncodeLocalName"/> does. A string holding a character XML cannot carry throws
/// <see cref="ArgumentException"/>: the transfer cannot go in this format, and is refused rather than altered.
/// </summary>
public static class OverdrachtXml
{
    public const string Namespace = "urn:integrationgateway:departement-onderwijs:v1";
    const string SchemaInstance = "http://www.w3.org/2001/XMLSchema-instance";

    public static HttpContent ToContent(OutboundTransfer transfer)
    {
        var content = new ByteArrayContent(ToBytes(transfer));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/xml") { CharSet = "utf-8" };
        return content;
    }

    public static byte[] ToBytes(OutboundTransfer transfer)
    {
        using var buffer = new MemoryStream();
        using (var xml = XmlWriter.Create(buffer, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false }))
        {
            xml.WriteStartElement("Overdracht", Namespace);
            xml.WriteAttributeString("overeenkomst", transfer.AgreementId);
            xml.WriteAttributeString("gebeurtenis", transfer.EventType);
            xml.WriteStartElement("Record", Namespace);
            using var record = JsonDocument.Parse(transfer.Payload);
            WriteProperties(xml, record.RootElement);
            xml.WriteEndElement();
            xml.WriteEndElement();
        }

        return buffer.ToArray();
    }

    static void WriteProperties(XmlWriter xml, JsonElement obj)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Null)
            {
                WriteValue(xml, XmlConvert.EncodeLocalName(property.Name), property.Value);
            }
        }
    }

    static void WriteValue(XmlWriter xml, string name, JsonElement value)
    {
        xml.WriteStartElement(name, Namespace);
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                xml.WriteAttributeString("xsi", "nil", SchemaInstance, "true");
                break;
            case JsonValueKind.Object:
                WriteProperties(xml, value);
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    WriteValue(xml, "item", item);
                }

                break;
            case JsonValueKind.String:
                xml.WriteString(value.GetString());
                break;
            default:
                xml.WriteString(value.GetRawText()); // numbers and booleans as JSON writes them
                break;
        }

        xml.WriteEndElement();
    }
}
