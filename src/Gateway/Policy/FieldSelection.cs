using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// An allow-list of field paths, and the projection that builds a payload from it. Paths are dot paths from the
/// event's JSON root, <c>[]</c> marking array elements: <c>subject.birthDate</c>, <c>guardians[].email</c>. A path
/// may name a leaf or a whole object.
/// <para>
/// <b>The contract decides what a path takes in, not the sender.</b> For each event type the allow-list is bound to
/// that type's contract (<see cref="EventCatalogue"/>): a path that names an object admits exactly the contract's
/// leaves below it, at every depth, arrays of objects included. A member the contract does not declare does not
/// exist for the projection, wherever it stands and whatever the allow-list says; so does a value of another shape
/// than the contract's (an object or array where the contract has a value, a value where it has an object). The
/// projection writes a new document with what the bound tree names and nothing else: it never copies the event and
/// deletes from it, and it never copies a JSON value it has not looked at.
/// </para>
/// <para>Rules, the same in <see cref="Project"/> and <see cref="Classify"/>: a contract leaf is copied when its value
/// is a string, number or boolean (for a list of values, each such element); a contract object must be an object (a
/// list of objects, an array of objects), and is written only when something inside it is; null is left out.</para>
/// This is the only projection in the gateway: the live pipeline, the parked-transfer scheduler (which sends what it
/// projected), the notices and <c>policy evaluate</c> all call it.
/// </summary>
public sealed class FieldSelection
{
    [ThreadStatic] static Projector? t_projector;

    readonly EventCatalogue _catalogue;
    readonly ConcurrentDictionary<string, Node> _bound = new(StringComparer.Ordinal);

    FieldSelection(IReadOnlyList<string> paths, EventCatalogue catalogue)
    {
        Paths = paths;
        _catalogue = catalogue;
    }

    /// <summary>The paths as the agreement lists them.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>
    /// Checks the paths' form and compiles them against <paramref name="catalogue"/> (the shipped contracts by
    /// default); throws <see cref="FormatException"/> naming the first malformed one.
    /// </summary>
    public static FieldSelection Parse(IReadOnlyList<string> paths, EventCatalogue? catalogue = null)
    {
        var arrays = new Dictionary<string, bool>(StringComparer.Ordinal); // "parent/name" -> used with []
        foreach (var path in paths)
        {
            var parent = "";
            foreach (var segment in path.Split('.'))
            {
                var isArray = segment.EndsWith("[]", StringComparison.Ordinal);
                var name = isArray ? segment[..^2] : segment;
                if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                {
                    throw new FormatException($"'{path}' is not a field path: segment '{segment}' is not a property name (letters, digits, '_', optional '[]').");
                }

                var key = parent + "/" + name;
                if (arrays.TryGetValue(key, out var seen) && seen != isArray)
                {
                    throw new FormatException($"'{name}' is used both as an array ('{name}[]') and as a single value.");
                }

                arrays[key] = isArray;
                parent = key;
            }
        }

        return new FieldSelection(paths, catalogue ?? EventCatalogue.Default);
    }

    /// <summary>The contract leaves of <paramref name="eventType"/> this selection takes in, as catalogue paths.</summary>
    IEnumerable<string> LeavesOf(string eventType) =>
        _catalogue.FieldsOf(eventType).Where(f => f.IsLeaf && Paths.Any(p => EventCatalogue.Covers(p, f.Path))).Select(f => f.Path);

    /// <summary>The member of every event's header that names the event: it never leaves as published (<see cref="Project"/>).</summary>
    public const string EventIdMember = "eventId";

    /// <summary>
    /// The minimised record of an event of <paramref name="eventType"/> as UTF-8 JSON: exactly the bytes a recipient
    /// receives. Where the selection takes in the event's <c>eventId</c>, the record carries
    /// <paramref name="reference"/> in its place, the recipient's own reference for the event
    /// (<see cref="Ledger.LedgerKeys.TransferReference"/>): one event's id, the same at every recipient, would let
    /// any two recipients join their records of it. Required, so no caller sends the id by forgetting it: null only
    /// where the record goes nowhere (a test of the projection itself), or keeps what it was first sent with (a
    /// transfer parked before references, decided again).
    /// </summary>
    public byte[] Project(string eventType, JsonElement source, Guid? reference) => (t_projector ??= new Projector()).Project(source, Bound(eventType), reference);

    /// <summary>
    /// Sorts every leaf of the event (a value, or an empty object or array) into what the projection discloses and
    /// what it withholds, as paths with <c>[]</c> for array elements. A member name that is not a plain camelCase name
    /// (see <see cref="PathSegment"/>) is written <c>*</c>: a sender may name a member after anything, a person included.
    /// </summary>
    public void Classify(string eventType, JsonElement source, ISet<string> disclosed, ISet<string> withheld)
    {
        if (source.ValueKind != JsonValueKind.Object)
        {
            AddLeaves(source, "", withheld);
            return;
        }

        var root = Bound(eventType);
        foreach (var property in source.EnumerateObject())
        {
            ClassifyMember(property.Value, root.Find(property.Name), PathSegment(property.Name), disclosed, withheld);
        }
    }

    /// <summary>
    /// A member name as it may stand in a recorded path: a name some contract declares (<c>bsn</c>, <c>email</c>,
    /// <c>givenName</c>: the gateway's own vocabulary, which tells a DPO what a sloppy export put where) as it is;
    /// any other name as <c>*</c>. A sender may name a member after anything, a person or a number included
    /// (<c>pietersen</c>, <c>s0123456782</c>), and the ledger, kept for years and beyond an erasure's reach, must not
    /// hold it.
    /// </summary>
    public static string PathSegment(string name) => DeclaredNames.Contains(name) ? name : "*";

    static readonly FrozenSet<string> DeclaredNames = EventCatalogue.Default.Types.Keys
        .SelectMany(EventCatalogue.Default.FieldsOf)
        .Select(f => f.Path.Split('.')[^1].TrimEnd(']').TrimEnd('['))
        .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// The allow-list bound to one contract: a tree of exactly the contract leaves the paths take in. An event type
    /// the catalogue does not know binds to nothing.
    /// </summary>
    Node Bound(string eventType) => _bound.GetOrAdd(eventType, static (type, self) =>
    {
        var root = new Node(string.Empty, isArray: false);
        foreach (var leaf in self.LeavesOf(type))
        {
            var node = root;
            foreach (var segment in leaf.Split('.'))
            {
                var isArray = segment.EndsWith("[]", StringComparison.Ordinal);
                node = node.Child(isArray ? segment[..^2] : segment, isArray);
            }

            node.Leaf = true;
        }

        return root;
    }, this);

    static bool IsValue(JsonElement value) => value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False;

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
        if (node.Leaf)
        {
            return IsValue(value);
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
        if (node.Leaf)
        {
            disclosed.Add(path);
            return;
        }

        foreach (var property in value.EnumerateObject())
        {
            ClassifyMember(property.Value, node.Find(property.Name), path + "." + PathSegment(property.Name), disclosed, withheld);
        }
    }

    static void AddLeaves(JsonElement value, string path, ISet<string> into)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when value.EnumerateObject().Any():
                foreach (var property in value.EnumerateObject())
                {
                    var name = PathSegment(property.Name);
                    AddLeaves(property.Value, path.Length == 0 ? name : path + "." + name, into);
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
    /// Writes the projection in one pass over the bound tree. An object or array is opened only when something
    /// inside it is written, so a container of which nothing is allowed leaves no trace, without looking at it twice.
    /// One per thread: it reuses its buffer and writer.
    /// </summary>
    sealed class Projector
    {
        readonly ArrayBufferWriter<byte> _buffer = new(1024);
        readonly Utf8JsonWriter _writer;
        readonly List<(JsonEncodedText? Name, bool IsArray)> _frames = [];
        int _opened;
        Guid? _reference;

        public Projector() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });

        public byte[] Project(JsonElement source, Node root, Guid? reference)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _frames.Clear();
            _opened = 0;
            _reference = reference;
            _writer.WriteStartObject();
            if (source.ValueKind == JsonValueKind.Object)
            {
                WriteMembers(source, root, atRoot: true);
            }

            _writer.WriteEndObject();
            _writer.Flush();
            return _buffer.WrittenSpan.ToArray();
        }

        void WriteMembers(JsonElement obj, Node node, bool atRoot = false)
        {
            foreach (var child in node.Children)
            {
                if (!obj.TryGetProperty(child.Utf8Name, out var value))
                {
                    continue;
                }

                if (atRoot && _reference is { } reference && child.Leaf && child.Name == EventIdMember)
                {
                    if (IsValue(value))
                    {
                        _writer.WriteString(child.EncodedName, reference);
                    }

                    continue;
                }

                if (!child.IsArray)
                {
                    WriteElement(value, child, child.EncodedName);
                    continue;
                }

                if (value.ValueKind != JsonValueKind.Array)
                {
                    continue; // the contract has a list here
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
            if (node.Leaf)
            {
                if (!IsValue(value))
                {
                    return; // null, or an object or array where the contract has a value: nothing of it leaves
                }

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
                return; // the contract has an object here
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

        /// <summary>A leaf of the contract (for a list, each element is one): copied when it is a value.</summary>
        public bool Leaf { get; set; }

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

            return child;
        }
    }
}
