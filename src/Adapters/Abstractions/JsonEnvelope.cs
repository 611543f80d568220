using System.Net.Http.Headers;
using System.Text.Json;

namespace IntegrationGateway.Adapters;

/// <summary>
/// The JSON body most recipients take: the minimised record, wrapped with the agreement it was sent under (its id and
/// the hash of the approved text), and the event type, so the recipient can check the ground on its side. Nothing is
/// added from outside the record.
/// </summary>
public static class JsonEnvelope
{
    public static HttpContent ToContent(OutboundTransfer transfer)
    {
        using var buffer = new MemoryStream(transfer.Payload.Length + 128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("agreement", transfer.AgreementId);
            if (!string.IsNullOrEmpty(transfer.AgreementHash))
            {
                writer.WriteString("agreementHash", transfer.AgreementHash);
            }

            writer.WriteString("eventType", transfer.EventType);
            writer.WritePropertyName("record");
            writer.WriteRawValue(transfer.Payload.Span, skipInputValidation: true);
            writer.WriteEndObject();
        }

        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }
}
