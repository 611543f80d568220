using System.Text.Json.Nodes;

namespace IntegrationGateway.Adapters;

/// <summary>
/// Reads a recipient's own wire format back into the shape every recipient's transfer has in JSON:
/// <c>{ "agreement": …, "eventType": …, "record": { … } }</c>. Lives in the recipient's folder beside its mapping, so
/// the agency simulator (and any test) checks every format the same way, leaf by leaf, and a new format needs no
/// change there: the simulator finds every public decoder in this assembly.
/// </summary>
public interface IWireFormatDecoder
{
    /// <summary>A short name for receipts, e.g. <c>xml</c>, <c>csv</c>.</summary>
    string Format { get; }

    /// <summary>Whether a body sent with this content type is in this format.</summary>
    bool Reads(string? contentType);

    /// <summary>The transfer as JSON; throws <see cref="FormatException"/> when the body is not in the format.</summary>
    JsonNode Decode(byte[] body);
}
