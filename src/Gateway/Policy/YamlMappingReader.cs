using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// Reads values out of the YAML mappings of the configuration files a DPO reviews (agreements, controllers),
/// collecting errors with file and line: strict, so a malformed or unknown setting is reported, never ignored.
/// </summary>
internal sealed class YamlMappingReader(string file)
{
    public List<AgreementError> Errors { get; } = [];

    public Dictionary<string, int> Lines { get; } = new(StringComparer.Ordinal);

    /// <summary>A required nested mapping whose keys must all be known; an error (on its line, or the file's) otherwise.</summary>
    public YamlMappingNode? RequiredMapping(YamlMappingNode root, string key, string rule, string[] knownKeys, string message)
    {
        if (NodeOf(root, key) is not YamlMappingNode mapping)
        {
            Error(NodeOf(root, key) ?? root, rule, message);
            return null;
        }

        RejectUnknownKeys(mapping, key, knownKeys);
        return mapping;
    }

    public void RejectUnknownKeys(YamlMappingNode mapping, string parent, string[] known)
    {
        foreach (var key in mapping.Children.Keys)
        {
            if (key is YamlScalarNode { Value: { } name } && !known.Contains(name, StringComparer.Ordinal))
            {
                Error(key, "unknown-key", $"unknown key '{parent}.{name}'; known keys: {string.Join(", ", known)}");
            }
        }
    }

    public string? OptionalString(YamlMappingNode mapping, string key) =>
        NodeOf(mapping, key) switch
        {
            null or YamlScalarNode { Value: null or "" or "~" or "null" } => null,
            YamlScalarNode { Value: { } value } => value,
            var other => ErrorAndNull(other, $"'{key}' is a single value"),
        };

    public bool OptionalBool(YamlMappingNode mapping, string key)
    {
        switch (NodeOf(mapping, key))
        {
            case null:
                return false;
            case YamlScalarNode { Value: "true" }:
                return true;
            case YamlScalarNode { Value: "false" }:
                return false;
            case var other:
                Error(other, "boolean", $"'{key}' is true or false");
                return false;
        }
    }

    string? ErrorAndNull(YamlNode node, string message)
    {
        Error(node, "value", message);
        return null;
    }

    public void Error(YamlNode node, string rule, string message) =>
        Errors.Add(new(file, LineOf(node.Start), rule, message));

    public YamlNode? NodeOf(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public string? RequiredString(YamlMappingNode mapping, string key)
    {
        switch (NodeOf(mapping, key))
        {
            case null:
                Error(mapping, "required", $"'{key}' is required");
                return null;
            case YamlScalarNode { Value: { Length: > 0 } value }:
                return value;
            case var other:
                Error(other, "required", $"'{key}' must be a non-empty value");
                return null;
        }
    }

    public IReadOnlyList<string> StringList(YamlMappingNode mapping, string key, bool required)
    {
        switch (NodeOf(mapping, key))
        {
            case null when required:
                Error(mapping, "required", $"'{key}' is required and lists at least one entry");
                return [];
            case null:
                return [];
            case YamlSequenceNode sequence:
                var values = new List<string>();
                foreach (var item in sequence)
                {
                    if (item is YamlScalarNode { Value: { Length: > 0 } value })
                    {
                        values.Add(value);
                    }
                    else
                    {
                        Error(item, "list", $"every entry of '{key}' is a non-empty value");
                    }
                }

                if (required && values.Count == 0)
                {
                    Error(sequence, "required", $"'{key}' lists at least one entry");
                }

                RejectDuplicates(sequence, key, values);
                return values;
            case var other:
                Error(other, "list", $"'{key}' is a list");
                return [];
        }
    }

    /// <summary>An entry listed twice is an error: an event type listed twice would route the event twice under one agreement.</summary>
    public void RejectDuplicates(YamlSequenceNode sequence, string key, IEnumerable<string> values)
    {
        foreach (var duplicate in values.GroupBy(v => v, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            Error(sequence, "duplicate-entry", $"'{key}' lists '{duplicate.Key}' more than once");
        }
    }

    public DateOnly? OptionalDate(YamlMappingNode mapping, string key)
    {
        switch (NodeOf(mapping, key))
        {
            case null:
            case YamlScalarNode { Value: null or "" or "null" or "~" }:
                return null;
            case YamlScalarNode { Value: { } text } node:
                if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                {
                    return date;
                }

                Error(node, "date", $"'{key}' is a date written yyyy-MM-dd");
                return null;
            case var other:
                Error(other, "date", $"'{key}' is a date written yyyy-MM-dd");
                return null;
        }
    }

    // YamlDotNet's marks count lines from 1, as editors do.
    public static int LineOf(Mark mark) => (int)mark.Line;

    /// <summary>The one mapping a configuration file holds, or null with the error in <paramref name="error"/>.</summary>
    public static YamlMappingNode? LoadMapping(string file, string what, out AgreementError? error)
    {
        error = null;
        try
        {
            using var text = File.OpenText(file);
            var stream = new YamlStream();
            stream.Load(text);
            if (stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode mapping)
            {
                return mapping;
            }

            error = new(file, 1, "yaml", $"{what} file holds exactly one YAML mapping");
        }
        catch (YamlException ex)
        {
            error = new(file, LineOf(ex.Start), "yaml", ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            // The scanner gives up on some malformed input without a position.
            error = new(file, 0, "yaml", $"not valid YAML: {ex.Message}");
        }

        return null;
    }

    /// <summary>Records each top-level key's line, and refuses unknown or tagged keys.</summary>
    public void ReadKeys(YamlMappingNode root, IReadOnlyCollection<string> knownKeys)
    {
        foreach (var key in root.Children.Keys)
        {
            if (!key.Tag.IsEmpty)
            {
                // A tagged key ('!!str senders') would pass the name check and then not be found: refuse it.
                Error(key, "unknown-key", "keys carry no YAML tags");
            }
            else if (key is YamlScalarNode { Value: { } name })
            {
                Lines[name] = LineOf(key.Start);
                if (!knownKeys.Contains(name, StringComparer.Ordinal))
                {
                    Error(key, "unknown-key", $"unknown key '{name}'; known keys: {string.Join(", ", knownKeys)}");
                }
            }
        }
    }
}
