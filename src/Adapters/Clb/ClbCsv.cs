using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IntegrationGateway.Adapters.Clb;

/// <summary>
/// The CLB's wire format, as this gateway defines it for the CLB endpoint (the seeds name the CLB as a recipient, not
/// its interface): RFC 4180 CSV with <c>;</c> as separator (what Flemish spreadsheets expect), UTF-8, CRLF, two rows:
/// a header naming each column and one row of values. The first two columns are <c>agreement</c> and
/// <c>eventType</c>; then one column per leaf of the minimised record, named by its path, a list element by its
/// position (<c>guardians[0].phone</c>). Nothing is added from outside the record. A value is quoted when it holds
/// <c>;</c>, a quote or a line break, and never altered (no spreadsheet-formula escaping: a program reads it).
/// </summary>
public static class ClbCsv
{
    public const string MediaType = "text/csv";

    public static HttpContent ToContent(OutboundTransfer transfer)
    {
        var content = new ByteArrayContent(ToBytes(transfer));
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaType) { CharSet = "utf-8" };
        return content;
    }

    /// <summary>The document; throws <see cref="FormatException"/> for a record with a list inside a list, which has no column name here.</summary>
    public static byte[] ToBytes(OutboundTransfer transfer)
    {
        var columns = new List<(string Name, string Value)> { ("agreement", transfer.AgreementId), ("eventType", transfer.EventType) };
        using var record = JsonDocument.Parse(transfer.Payload);
        Flatten(record.RootElement, "", columns);
        var text = new StringBuilder();
        text.AppendJoin(';', columns.Select(c => Quote(c.Name))).Append("\r\n");
        text.AppendJoin(';', columns.Select(c => Quote(c.Value))).Append("\r\n");
        return new UTF8Encoding(false).GetBytes(text.ToString());
    }

    static void Flatten(JsonElement value, string path, List<(string, string)> columns)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    Flatten(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", columns);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var element in value.EnumerateArray())
                {
                    if (element.ValueKind == JsonValueKind.Array)
                    {
                        throw new FormatException("a list inside a list has no column name");
                    }

                    Flatten(element, $"{path}[{i++}]", columns);
                }

                break;
            case JsonValueKind.Null:
                break;
            default:
                columns.Add((path, value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()));
                break;
        }
    }

    static string Quote(string value) =>
        value.AsSpan().IndexOfAny(";\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    /// <summary>The two rows read back: (column, value) pairs in order; throws <see cref="FormatException"/> when the body is not that.</summary>
    public static IReadOnlyList<(string Column, string Value)> Read(byte[] body)
    {
        var rows = Rows(Encoding.UTF8.GetString(body));
        if (rows.Count != 2 || rows[0].Count != rows[1].Count || rows[0].Count < 2 || rows[0][0] != "agreement" || rows[0][1] != "eventType")
        {
            throw new FormatException("not a CLB notice: a header row starting agreement;eventType and one row of values");
        }

        return [.. rows[0].Zip(rows[1])];
    }

    static List<List<string>> Rows(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ';')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
                i++;
            }
            else
            {
                field.Append(c);
            }
        }

        if (quoted || field.Length > 0 || row.Count > 0)
        {
            throw new FormatException("the last row does not end with CRLF");
        }

        return rows;
    }
}

/// <summary>Reads a CLB notice back into the JSON shape of a transfer, for the agency simulator's checks. Values stay text.</summary>
public sealed class ClbCsvDecoder : IWireFormatDecoder
{
    public string Format => "csv";

    public bool Reads(string? contentType) => contentType?.StartsWith(ClbCsv.MediaType, StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>Every malformed body (a bad column name, a path used both as a value and as an object, a repeated column) is a <see cref="FormatException"/>.</summary>
    public JsonNode Decode(byte[] body)
    {
        var columns = ClbCsv.Read(body);
        var record = new JsonObject();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (column, value) in columns.Skip(2))
        {
            if (!seen.Add(column))
            {
                throw new FormatException($"column '{column}' appears twice");
            }

            JsonNode parent = record;
            var segments = column.Split('.');
            for (var s = 0; s < segments.Length; s++)
            {
                var last = s == segments.Length - 1;
                var (name, index) = Segment(segments[s]);
                var obj = parent as JsonObject ?? throw new FormatException($"column '{column}' goes inside a value");
                if (index is null)
                {
                    if (last)
                    {
                        obj[name] = obj.ContainsKey(name) ? throw new FormatException($"column '{column}' names an object") : JsonValue.Create(value);
                        break;
                    }

                    parent = obj[name] ??= new JsonObject();
                    continue;
                }

                var list = (obj[name] ??= new JsonArray()) as JsonArray ?? throw new FormatException($"column '{column}' indexes a value");
                while (list.Count <= index)
                {
                    list.Add(null);
                }

                if (last)
                {
                    list[index.Value] = list[index.Value] is null ? JsonValue.Create(value) : throw new FormatException($"column '{column}' names an object");
                    break;
                }

                parent = list[index.Value] ??= new JsonObject();
            }
        }

        return new JsonObject { ["agreement"] = columns[0].Value, ["eventType"] = columns[1].Value, ["record"] = record };
    }

    /// <summary>A column segment: a name, or a name and a list position (below 100: a record has no longer lists).</summary>
    static (string Name, int? Index) Segment(string segment)
    {
        var open = segment.IndexOf('[', StringComparison.Ordinal);
        if (open < 0)
        {
            return segment.Length > 0 && !segment.Contains(']', StringComparison.Ordinal) ? (segment, null) : throw new FormatException($"column segment '{segment}' is not a name");
        }

        return open > 0 && segment.EndsWith(']') && segment.Length > open + 2
            && int.TryParse(segment.AsSpan(open + 1, segment.Length - open - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) && index < 100
                ? (segment[..open], index)
                : throw new FormatException($"column segment '{segment}' is not name[index]");
    }
}
