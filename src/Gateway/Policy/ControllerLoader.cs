using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// Reads and checks the controller registry (<c>*.yaml</c>, one controller each), strictly like the agreements: an
/// unknown key, a missing required key or a malformed value is an error with file, line and rule. Rules beyond the
/// structural ones (<c>unknown-key</c>, <c>required</c>, <c>yaml</c>):
/// <list type="bullet">
/// <item><c>controller-id</c>: an id not of lowercase letters, digits and '-', not the file's name, or used twice.</item>
/// <item><c>controller-kind</c>, <c>jurisdiction</c>: not one of the known values.</item>
/// <item><c>identifier</c>: an unknown scheme, a scheme of the other legal order, a value failing its check, or an id
/// another controller has too (an event must name one controller).</item>
/// <item><c>broker-user</c>: a malformed user name, or one another controller publishes as.</item>
/// <item><c>dpo</c>: no name, or no e-mail address.</item>
/// <item><c>party</c>: an agreement that is not configured, of another jurisdiction, or whose <c>senders</c> leave this controller out.</item>
/// <item><c>senders</c> (on an agreement): an entry that is neither a controller id nor a controller kind.</item>
/// </list>
/// </summary>
public static partial class ControllerLoader
{
    static readonly string[] KnownKeys =
        ["id", "legalName", "kind", "jurisdiction", "identifiers", "dpo", "brokerUsers", "agreements", "processors", "jointControllers", "synthetic"];

    static readonly string[] Jurisdictions = ["NL", "BE-VLG"];

    public static (IReadOnlyList<Controller> Controllers, IReadOnlyList<AgreementError> Errors) LoadDirectory(string directory)
    {
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            return ([], [new AgreementError(full, 0, "controllers-directory", "the controllers directory does not exist")]);
        }

        var controllers = new List<Controller>();
        var errors = new List<AgreementError>();
        foreach (var file in Directory.EnumerateFiles(full, "*.yaml").Concat(Directory.EnumerateFiles(full, "*.yml")).Order(StringComparer.Ordinal))
        {
            var (controller, fileErrors) = LoadFile(file);
            errors.AddRange(fileErrors);
            if (controller is not null)
            {
                controllers.Add(controller);
            }
        }

        errors.AddRange(CrossChecks(controllers));
        if (controllers.Count == 0 && errors.Count == 0)
        {
            errors.Add(new(full, 0, "controllers-directory", "no controller files (*.yaml) found: no event could ever be accepted"));
        }

        return (controllers, errors);
    }

    public static (Controller? Controller, IReadOnlyList<AgreementError> Errors) LoadFile(string file)
    {
        var reader = new YamlMappingReader(file);
        if (YamlMappingReader.LoadMapping(file, "a controller", out var error) is not { } root)
        {
            return (null, [error!]);
        }

        reader.ReadKeys(root, KnownKeys);
        var id = reader.RequiredString(root, "id");
        if (id is not null && !IdPattern().IsMatch(id))
        {
            reader.Error(reader.NodeOf(root, "id")!, "controller-id", $"'{id}' is not a controller id: lowercase letters, digits and '-'");
        }
        else if (id is not null && Path.GetFileNameWithoutExtension(file) != id)
        {
            reader.Error(reader.NodeOf(root, "id")!, "controller-id", $"the file of controller '{id}' is named {id}.yaml");
        }

        var legalName = reader.RequiredString(root, "legalName");
        var kind = reader.RequiredString(root, "kind");
        if (kind is not null && !ControllerKinds.All.Contains(kind, StringComparer.Ordinal))
        {
            reader.Error(reader.NodeOf(root, "kind")!, "controller-kind", $"kind is one of {string.Join(", ", ControllerKinds.All)}");
        }

        var jurisdiction = reader.RequiredString(root, "jurisdiction");
        if (jurisdiction is not null && !Jurisdictions.Contains(jurisdiction, StringComparer.Ordinal))
        {
            reader.Error(reader.NodeOf(root, "jurisdiction")!, "jurisdiction", $"jurisdiction is one of {string.Join(", ", Jurisdictions)}");
        }

        var identifiers = ReadIdentifiers(reader, root, jurisdiction);
        var dpo = ReadDpo(reader, root);
        var brokerUsers = reader.StringList(root, "brokerUsers", required: true);
        foreach (var user in brokerUsers.Where(u => !IdPattern().IsMatch(u)))
        {
            reader.Error(reader.NodeOf(root, "brokerUsers")!, "broker-user", $"'{user}' is not a broker user name: lowercase letters, digits and '-'");
        }

        var agreements = reader.StringList(root, "agreements", required: false);
        var processors = ReadList(reader, root, "processors", ["name", "role", "dpa"],
            m => reader.RequiredString(m, "name") is { } name && reader.RequiredString(m, "role") is { } role && reader.RequiredString(m, "dpa") is { } dpa
                ? new Processor(name, role, dpa) : null);
        var joint = ReadList(reader, root, "jointControllers", ["with", "arrangement", "reference"],
            m => reader.StringList(m, "with", required: true) is { Count: > 0 } with && reader.RequiredString(m, "arrangement") is { } arrangement && reader.RequiredString(m, "reference") is { } reference
                ? new JointArrangement(with, arrangement, reference) : null);
        var synthetic = reader.OptionalBool(root, "synthetic");
        if (reader.Errors.Count > 0)
        {
            return (null, reader.Errors);
        }

        return (new Controller
        {
            Id = id!,
            LegalName = legalName!,
            Kind = kind!,
            Jurisdiction = jurisdiction!,
            Identifiers = identifiers,
            Dpo = dpo!,
            BrokerUsers = brokerUsers,
            Agreements = agreements,
            Processors = processors,
            JointControllers = joint,
            Synthetic = synthetic,
            SourceFile = file,
            Lines = reader.Lines,
        }, []);
    }

    /// <summary>
    /// The checks between controllers and agreements: every agreement a controller is party to exists, is of its legal
    /// order and lets it send; every <c>senders</c> entry names a controller or a kind.
    /// </summary>
    public static IEnumerable<AgreementError> Lint(IReadOnlyList<Controller> controllers, IReadOnlyList<Agreement> agreements)
    {
        var byId = agreements.DistinctBy(a => a.Id).ToDictionary(a => a.Id, StringComparer.Ordinal);
        foreach (var controller in controllers)
        {
            foreach (var id in controller.Agreements)
            {
                if (!byId.TryGetValue(id, out var agreement))
                {
                    yield return new(controller.SourceFile, controller.LineOf("agreements"), "party", $"agreement '{id}' is not configured");
                }
                else if (agreement.Jurisdiction != controller.Jurisdiction)
                {
                    yield return new(controller.SourceFile, controller.LineOf("agreements"), "party", $"agreement '{id}' is of {agreement.Jurisdiction}, this controller of {controller.Jurisdiction}");
                }
                else if (!Covers(agreement, controller))
                {
                    yield return new(controller.SourceFile, controller.LineOf("agreements"), "party",
                        $"party to '{id}', whose senders ({string.Join(", ", agreement.Senders)}) do not name this controller or its kind ({controller.Kind})");
                }
            }
        }

        var ids = controllers.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var agreement in agreements)
        {
            foreach (var sender in agreement.Senders.Where(s => !ids.Contains(s) && !ControllerKinds.All.Contains(s, StringComparer.Ordinal)))
            {
                yield return new(agreement.SourceFile, agreement.LineOf("senders"), "senders",
                    $"'{sender}' is neither a controller id nor a controller kind ({string.Join(", ", ControllerKinds.All)})");
            }
        }
    }

    /// <summary>Whether the agreement's sender scope takes in the controller: no scope, its id, or its kind.</summary>
    public static bool Covers(Agreement agreement, Controller controller) =>
        agreement.Senders.Count == 0 || agreement.Senders.Contains(controller.Id, StringComparer.Ordinal) || agreement.Senders.Contains(controller.Kind, StringComparer.Ordinal);

    static IEnumerable<AgreementError> CrossChecks(IReadOnlyList<Controller> controllers)
    {
        foreach (var duplicate in controllers.GroupBy(c => c.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            foreach (var controller in duplicate.Skip(1))
            {
                yield return new(controller.SourceFile, controller.LineOf("id"), "controller-id", $"controller id '{controller.Id}' is also used in {duplicate.First().SourceFile}");
            }
        }

        var users = new Dictionary<string, Controller>(StringComparer.Ordinal);
        var institutions = new Dictionary<string, Controller>(StringComparer.Ordinal);
        foreach (var controller in controllers)
        {
            foreach (var user in controller.BrokerUsers)
            {
                if (!users.TryAdd(user, controller))
                {
                    yield return new(controller.SourceFile, controller.LineOf("brokerUsers"), "broker-user", $"broker user '{user}' already publishes for '{users[user].Id}'");
                }
            }

            foreach (var identifier in controller.Identifiers)
            {
                if (!institutions.TryAdd(identifier.Value, controller))
                {
                    yield return new(controller.SourceFile, controller.LineOf("identifiers"), "identifier", $"{identifier.Scheme} {identifier.Value} already identifies '{institutions[identifier.Value].Id}'");
                }
            }
        }
    }

    static List<ControllerIdentifier> ReadIdentifiers(YamlMappingReader reader, YamlMappingNode root, string? jurisdiction)
    {
        var identifiers = ReadList(reader, root, "identifiers", ["scheme", "value", "note"], m =>
        {
            var scheme = reader.RequiredString(m, "scheme");
            var value = reader.RequiredString(m, "value");
            if (scheme is null || value is null)
            {
                return null;
            }

            if (!InstitutionIdentifiers.All.Contains(scheme, StringComparer.Ordinal))
            {
                reader.Error(m, "identifier", $"scheme is one of {string.Join(", ", InstitutionIdentifiers.All)}");
            }
            else if (jurisdiction is not null && InstitutionIdentifiers.ByJurisdiction.TryGetValue(jurisdiction, out var schemes) && !schemes.Contains(scheme, StringComparer.Ordinal))
            {
                reader.Error(m, "identifier", $"a {scheme} number does not identify a sender of {jurisdiction} (its schemes: {string.Join(", ", schemes)})");
            }
            else if (!InstitutionIdentifiers.IsValid(scheme, value))
            {
                reader.Error(m, "identifier", $"'{value}' is not a valid {scheme} number (digits only, no dots or spaces; KBO: the mod-97 check)");
            }

            return new ControllerIdentifier(scheme, value, reader.OptionalString(m, "note"));
        });
        if (identifiers.Count == 0 && reader.NodeOf(root, "identifiers") is not null)
        {
            reader.Error(reader.NodeOf(root, "identifiers")!, "required", "'identifiers' lists at least one");
        }

        return identifiers;
    }

    static DataProtectionOfficer? ReadDpo(YamlMappingReader reader, YamlMappingNode root)
    {
        if (reader.RequiredMapping(root, "dpo", "dpo", ["name", "email"], "dpo is required: a mapping with 'name' and 'email' (whom a data subject writes to)") is not { } mapping)
        {
            return null;
        }

        var name = reader.RequiredString(mapping, "name");
        var email = reader.RequiredString(mapping, "email");
        if (email is not null && !email.Contains('@', StringComparison.Ordinal))
        {
            reader.Error(reader.NodeOf(mapping, "email")!, "dpo", $"dpo.email is an e-mail address, not '{email}'");
        }

        return name is null || email is null ? null : new DataProtectionOfficer(name, email);
    }

    /// <summary>A list of mappings under <paramref name="key"/>, each read by <paramref name="read"/>; required only when <paramref name="key"/> is 'identifiers'.</summary>
    static List<T> ReadList<T>(YamlMappingReader reader, YamlMappingNode root, string key, string[] known, Func<YamlMappingNode, T?> read)
        where T : class
    {
        var items = new List<T>();
        switch (reader.NodeOf(root, key))
        {
            case null when key == "identifiers":
                reader.Error(root, "required", "'identifiers' is required: the ids its events carry in source.institutionId");
                break;
            case null:
            case YamlScalarNode { Value: null or "" or "~" or "null" }:
                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence)
                {
                    if (item is not YamlMappingNode mapping)
                    {
                        reader.Error(item, key, $"each entry of '{key}' is a mapping with {string.Join(", ", known)}");
                        continue;
                    }

                    reader.RejectUnknownKeys(mapping, key, known);
                    if (read(mapping) is { } value)
                    {
                        items.Add(value);
                    }
                }

                break;
            case var other:
                reader.Error(other, key, $"'{key}' is a list");
                break;
        }

        return items;
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
