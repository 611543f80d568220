using System.Buffers;
using System.Text.Json;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// An allow-list of field paths compiled into a tree, and the projection that builds a payload from it.
/// Paths are dot paths from the event's JSON root, <c>[]</c> marking array elements: <c>subject.birthDate</c>,
/// <c>guardians[].email</c>. A path may name a leaf or a whole object. Projection writes a new document with what the
/// tree names and nothing else: it never copies the event and deletes from it, so a field the allow-list does not
/// know about cannot slip through at any depth.
/// <para>Rules, the same in <see cref="Project"/> and <see cref="Classify"/>: a value the allow-list names whole is
/// copied as it is; a value named only in part must be an object (or, for <c>name[]</c>, an array of objects), and
/// anything of another shape is left out; a null value, or an object or array of which nothing is allowed, is left
/// out.</para>
/// </summary>
public sealed class FieldSelection
{
    [ThreadStatic] static Projector? t_projector;

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
        var root = new Node(string.Empty, isArray: false);
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

    /// <summary>The minimised record as UTF-8 JSON: exactly the bytes a recipient receives.</summary>
    public byte[] Project(JsonElement source) => (t_projector ??= new Projector()).Project(source, _root);

    /// <summary>
    /// Sorts every leaf of the event (a value, or an empty object or array) into what the projection discloses and
    /// what it withholds, as paths with <c>[]</c> for array elements.
    /// </summary>
    public void Classify(JsonElement source, ISet<string> disclosed, ISet<string> withheld)
    {
        if (source.ValueKind != JsonValueKind.Object)
        {
            AddLeaves(source, "", withheld);
            return;
        }

        foreach (var property in source.EnumerateObject())
        {
            var child = _root.Find(property.Name);
            ClassifyMember(property.Value, child, property.Name, disclosed, withheld);
        }
    }

    /// <summary>Whether the member, as the node allows it, contributes anything to the payload.</summary>
    static bool HasAllowed(JsonElement value, Node node)
    {
        if (!node.IsArray)
        {
            return HasAllowedElement(value, node);
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var element in value.EnumerateArray())
        {
            if (HasAllowedElement(element, node))
            {
                return true;
            }
        }

        return false;
    }

    static bool HasAllowedElement(JsonElement value, Node node)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        if (node.Whole)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        foreach (var child in node.Children)
        {
            if (value.TryGetProperty(child.Utf8Name, out var member) && HasAllowed(member, child))
            {
                return true;
            }
        }

        return false;
    }

    static void ClassifyMember(JsonElement value, Node? node, string path, ISet<string> disclosed, ISet<string> withheld)
    {
        if (node is null || !HasAllowed(value, node))
        {
            AddLeaves(value, path, withheld);
            return;
        }

        if (node.IsArray)
        {
            var elementPath = path + "[]";
            foreach (var element in value.EnumerateArray())
            {
                if (HasAllowedElement(element, node))
                {
                    ClassifyValue(element, node, elementPath, disclosed, withheld);
                }
                else
                {
                    AddLeaves(element, elementPath, withheld);
                }
            }

            return;
        }

        ClassifyValue(value, node, path, disclosed, withheld);
    }

    static void ClassifyValue(JsonElement value, Node node, string path, ISet<string> disclosed, ISet<string> withheld)
    {
        if (node.Whole)
        {
            AddLeaves(value, path, disclosed);
            return;
        }

        foreach (var property in value.EnumerateObject())
        {
            ClassifyMember(property.Value, node.Find(property.Name), path + "." + property.Name, disclosed, withheld);
        }
    }

    static void AddLeaves(JsonElement value, string path, ISet<string> into)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when value.EnumerateObject().Any():
                foreach (var property in value.EnumerateObject())
                {
                    AddLeaves(property.Value, path.Length == 0 ? property.Name : path + "." + property.Name, into);
                }

                break;
            case JsonValueKind.Array when value.GetArrayLength() > 0:
                foreach (var element in value.EnumerateArray())
                {
                    AddLeaves(element, path + "[]", into);
                }

                break;
            default:
                into.Add(path);
                break;
        }
    }

    /// <summary>
    /// Writes the projection in one pass over the allowed paths. An object or array is opened only when something
    /// inside it is written, so a container of which nothing is allowed leaves no trace, without looking at it twice.
    /// One per thread: it reuses its buffer and writer.
    /// </summary>
    sealed class Projector
    {
        readonly ArrayBufferWriter<byte> _buffer = new(1024);
        readonly Utf8JsonWriter _writer;
        readonly List<(JsonEncodedText? Name, bool IsArray)> _frames = [];
        int _opened;

        public Projector() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });

        public byte[] Project(JsonElement source, Node root)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _frames.Clear();
            _opened = 0;
            _writer.WriteStartObject();
            if (source.ValueKind == JsonValueKind.Object)
            {
                WriteMembers(source, root);
            }

            _writer.WriteEndObject();
            _writer.Flush();
            return _buffer.WrittenSpan.ToArray();
        }

        void WriteMembers(JsonElement obj, Node node)
        {
            foreach (var child in node.Children)
            {
                if (!obj.TryGetProperty(child.Utf8Name, out var value))
                {
                    continue;
                }

                if (!child.IsArray)
                {
                    WriteElement(value, child, child.EncodedName);
                    continue;
                }

                if (value.ValueKind != JsonValueKind.Array)
                {
                    continue; // the allow-list expects an array here
                }

                Open(child.EncodedName, isArray: true);
                foreach (var element in value.EnumerateArray())
                {
                    WriteElement(element, child, name: null);
                }

                Close();
            }
        }

        void WriteElement(JsonElement value, Node node, JsonEncodedText? name)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                return;
            }

            if (node.Whole)
            {
                OpenPending();
                if (name is { } property)
                {
                    _writer.WritePropertyName(property);
                }

                value.WriteTo(_writer);
                return;
            }

            if (value.ValueKind != JsonValueKind.Object)
            {
                return; // only part of it is allowed, so it must be an object
            }

            Open(name, isArray: false);
            WriteMembers(value, node);
            Close();
        }

        void Open(JsonEncodedText? name, bool isArray) => _frames.Add((name, isArray));

        /// <summary>Writes the containers that were entered but not yet opened, outermost first.</summary>
        void OpenPending()
        {
            for (; _opened < _frames.Count; _opened++)
            {
                var (name, isArray) = _frames[_opened];
                if (name is { } property)
                {
                    _writer.WritePropertyName(property);
                }

                if (isArray)
                {
                    _writer.WriteStartArray();
                }
                else
                {
                    _writer.WriteStartObject();
                }
            }
        }

        void Close()
        {
            var (_, isArray) = _frames[^1];
            _frames.RemoveAt(_frames.Count - 1);
            if (_opened > _frames.Count)
            {
                _opened--;
                if (isArray)
                {
                    _writer.WriteEndArray();
                }
                else
                {
                    _writer.WriteEndObject();
                }
            }
        }
    }

    sealed class Node(string name, bool isArray)
    {
        readonly List<Node> _children = [];

        public string Name { get; } = name;
        public byte[] Utf8Name { get; } = System.Text.Encoding.UTF8.GetBytes(name);
        public JsonEncodedText EncodedName { get; } = JsonEncodedText.Encode(name);
        public bool IsArray { get; } = isArray;

        /// <summary>The path ends here: the whole value is allowed, whatever lies below it.</summary>
        public bool Whole { get; set; }

        public IReadOnlyList<Node> Children => _children;

        public Node? Find(string name) => _children.Find(c => c.Name == name);

        public Node Child(string name, bool isArray)
        {
            var child = Find(name);
            if (child is null)
            {
                child = new Node(name, isArray);
                _children.Add(child);
            }
            else if (child.IsArray != isArray)
            {
                throw new FormatException($"'{name}' is used both as an array ('{name}[]') and as a single value.");
            }

            return child;
        }
    }
}
