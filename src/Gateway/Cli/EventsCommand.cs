using System.CommandLine;
using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Cli;

/// <summary><c>events validate | generate | schema | publish</c>: the intake's verdict on an event, realistic synthetic events, the JSON Schema of each contract, and publishing to the intake.</summary>
internal static class EventsCommand
{
    public static Command Create(TimeProvider time)
    {
        var events = new Command("events", "Validate events as the intake does, generate synthetic ones, print their JSON Schemas, publish them to the intake.");
        events.Subcommands.Add(Validate(time));
        events.Subcommands.Add(Generate(time));
        events.Subcommands.Add(Schema());
        events.Subcommands.Add(PublishCommand.Create(time));
        return events;
    }

    static Command Validate(TimeProvider time)
    {
        var type = CliOptions.EventType(allowAll: false);
        var file = new Argument<FileInfo>("FILE") { Description = "The event as JSON, as it would be published." };
        file.AcceptExistingOnly();
        var command = new Command("validate", "The intake's verdict: exit 0 valid, 1 invalid with the reasons (field path and rule, never the value).") { type, file };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var path = parse.GetValue(file)!.FullName;
            var violations = new EventValidator(time).Validate(parse.GetValue(type)!, File.ReadAllBytes(path));
            foreach (var violation in violations)
            {
                output.WriteLine(violation.ToString());
            }

            output.WriteLine(violations.Count == 0 ? "valid" : $"invalid: {violations.Count} reason(s)");
            return violations.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    static Command Schema()
    {
        var type = CliOptions.EventType(allowAll: true);
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Write TYPE.schema.json files here instead of printing." };
        var command = new Command("schema", "The JSON Schema of an event contract, for publishers that are not .NET.") { type, outDir };
        command.SetAction(parse =>
        {
            var types = parse.GetValue(type) == "all" ? EventSchemas.EventTypes.ToList() : [parse.GetValue(type)!];
            CliOptions.Emit(parse, parse.GetValue(outDir), types.Select(t => ($"{t}.schema.json", EventSchemas.For(t))));
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command Generate(TimeProvider time)
    {
        var type = CliOptions.EventType(allowAll: true);
        var count = new Option<int>("--count") { Description = "How many events.", DefaultValueFactory = _ => 1 };
        count.MustBeBetween(1, 1_000_000);
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed gives the same events (ids included).", DefaultValueFactory = _ => 1 };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Write one file per event (TYPE-N.json) here instead of JSON lines to standard output." };
        var command = new Command("generate", "Realistic synthetic events: Dutch and Flemish names, valid checksums, plausible dates.") { type, count, seed, outDir };
        command.SetAction(parse =>
        {
            var types = parse.GetValue(type) == "all" ? SampleEventGenerator.EventTypes : [parse.GetValue(type)!];
            var generator = new SampleEventGenerator(parse.GetValue(seed), time);
            CliOptions.Emit(parse, parse.GetValue(outDir), Enumerable.Range(0, parse.GetValue(count)).Select(i =>
            {
                var eventType = types[i % types.Count];
                return ($"{eventType}-{i + 1}.json", JsonSerializer.Serialize(generator.Next(eventType), EventJson.ContractType(eventType), EventJsonContext.Default));
            }));
            return ExitCodes.Ok;
        });
        return command;
    }
}
