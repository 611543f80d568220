using System.Text.Json.Nodes;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// An allow-list of field paths compiled into a tree, and the projection that builds a payload from it.
/// Paths are dot paths from the event's JSON root, <c>[]</c> marking array elements: <c>subject.birthDate</c>,
/// <c>guardians[].email</c>. A path may name a leaf or a whole object. Projection copies what the tree names
/// and nothing else: it builds a new document rather than deleting from the old one, so a field the allow-list
/// does not know about cannot slip through at any depth.
/// </summary>
public sealed class FieldSelection
{
    readonly Node _root;

    FieldSelection(IReadOnlyList<string> paths, Node root)
    {
        Paths = paths;
        _root = root;
    }

    public IReadOnlyList<string> Paths { get; }

    /// <summary>Compiles the paths; throws <see cref="FormatException"/> naming the first malformed one.</summary>
    public static FieldSelection Parse(IReadOnlyList<string> paths)
    {
        var root = new Node();
        foreach (var path in paths)
        {
            var node = root;
            foreach (var segment in path.Split('.'))
            {
                var isArray = segment.EndsWith("[]", StringComparison.Ordinal);
                var name = isArray ? segment[..^2] : segment;
                if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                {
                    throw new FormatException($"'{path}' is not a field path: segment '{segment}' is not a property name (letters, digits, '_', optional '[]').");
                }

                node = node.Child(name, isArray);
            }

            node.Whole = true;
        }

        return new FieldSelection(paths, root);
    }

    /// <summary>Builds the minimised record: only what the allow-list names, values copied.</summary>
    public JsonObject Project(JsonObject source) => ProjectObject(source, _root);

    static JsonObject ProjectObject(JsonObject source, Node node)
    {
        var result = new JsonObject();
        foreach (var (name, child) in node.Children)
        {
            if (!source.TryGetPropertyValue(name, out var value) || value is null)
            {
                continue; // allowed but absent: simply absent
            }

            var projected = child.IsArray ? ProjectArray(value, child) : ProjectValue(value, child);
            if (projected is not null)
            {
                result[name] = projected;
            }
        }

        return result;
    }

    static JsonArray? ProjectArray(JsonNode value, Node node)
    {
        if (value is not JsonArray array)
        {
            return null; // the allow-list expects an array here; a differently shaped value is not what was allowed
        }

        var result = new JsonArray();
        foreach (var element in array)
        {
            if (element is not null && ProjectValue(element, node) is { } projected)
            {
                result.Add(projected);
            }
        }

        return result;
    }

    static JsonNode? ProjectValue(JsonNode value, Node node)
    {
        if (node.Whole)
        {
            return value.DeepClone();
        }

        // Only part of this value is allowed, so it must be an object; anything else is not what was allowed.
        if (value is not JsonObject obj)
        {
            return null;
        }

        var projected = ProjectObject(obj, node);
        return projected.Count > 0 ? projected : null;
    }

    sealed class Node
    {
        readonly Dictionary<string, Node> _children = new(StringComparer.Ordinal);

        public bool IsArray { get; private init; }

        /// <summary>The path ends here: the whole value is allowed, whatever lies below it.</summary>
        public bool Whole { get; set; }

        public IEnumerable<KeyValuePair<string, Node>> Children => _children;

        public Node Child(string name, bool isArray)
        {
            if (!_children.TryGetValue(name, out var child))
            {
                child = new Node { IsArray = isArray };
                _children.Add(name, child);
            }
            else if (child.IsArray != isArray)
            {
                throw new FormatException($"'{name}' is used both as an array ('{name}[]') and as a single value.");
            }

            return child;
        }
    }
}
