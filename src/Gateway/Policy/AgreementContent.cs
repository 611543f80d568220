using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// An agreement's content as one canonical text, and the hash that names it: what a DPO approves, and what every
/// ledger entry under it carries. The YAML file's mapping becomes JSON (every scalar a string, as YAML wrote it;
/// <c>~</c> and empty values null) written by the JSON Canonicalization Scheme (RFC 8785): members sorted by their
/// UTF-16 code units, no whitespace, strings escaped as ECMAScript does. Comments and layout are not content: a file
/// re-indented or re-commented keeps its hash, a changed value or field does not.
/// </summary>
public static class AgreementContent
{
    /// <summary>The prefix of <see cref="Hash"/>: the algorithm, so another can follow.</summary>
    public const string Algorithm = "sha256";

    public static string Canonical(YamlNode node)
    {
        var text = new StringBuilder();
        Write(node, text);
        return text.ToString();
    }

    /// <summary><c>sha256:</c> and the lowercase hex of the SHA-256 of the canonical text's UTF-8 bytes.</summary>
    public static string Hash(string canonical) =>
        $"{Algorithm}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";

    static void Write(YamlNode node, StringBuilder text)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                text.Append('{');
                var first = true;
                // Keys are plain values (the loader refuses any other before a hash is made).
                foreach (var (key, value) in mapping.Children.Select(c => (Key: (c.Key as YamlScalarNode)?.Value ?? throw new FormatException("a key that is not a plain value"), c.Value)).OrderBy(c => c.Key, StringComparer.Ordinal))
                {
                    text.Append(first ? "" : ",");
                    first = false;
                    String(key, text);
                    text.Append(':');
                    Write(value, text);
                }

                text.Append('}');
                break;
            case YamlSequenceNode sequence:
                text.Append('[');
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    text.Append(i == 0 ? "" : ",");
                    Write(sequence.Children[i], text);
                }

                text.Append(']');
                break;
            case YamlScalarNode { Value: null or "" or "~" or "null" }:
                text.Append("null");
                break;
            case YamlScalarNode scalar:
                String(scalar.Value!, text);
                break;
            default:
                throw new FormatException($"not a value an agreement holds: {node.NodeType}");
        }
    }

    /// <summary>RFC 8785 §3.2.2.2: quote, reverse solidus and the controls below U+0020 escaped, everything else as it is.</summary>
    static void String(string value, StringBuilder text)
    {
        text.Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\b' => text.Append("\\b"),
                '\f' => text.Append("\\f"),
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                < ' ' => text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => text.Append(c),
            };
        }

        text.Append('"');
    }
}
