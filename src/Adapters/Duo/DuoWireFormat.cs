using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IntegrationGateway.Adapters.Duo;

/// <summary>
/// DUO takes the minimised record as JSON, wrapped with the agreement it was sent under so that DUO can
/// check the ground on its side. Nothing is added from outside the record.
/// </summary>
internal static class DuoWireFormat
{
    public static HttpContent ToContent(OutboundTransfer transfer)
    {
        var body = new JsonObject
        {
            ["agreement"] = transfer.AgreementId,
            ["eventType"] = transfer.EventType,
            ["record"] = transfer.Payload.DeepClone(),
        };
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }
}
