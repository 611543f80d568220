using System.Collections.Concurrent;
using System.Diagnostics;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Telemetry;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// One trace per event, as the tracer provider exports it: the publisher's trace continued into the intake, the
/// policy decision under it, one delivery per recipient under that with its HTTP call; no personal value anywhere.
/// </summary>
public sealed class TracingTests(ITestOutputHelper output)
{
    /// <summary>What the gateway's tracer provider exports, kept in memory.</summary>
    sealed class CollectedSpans : BaseExporter<Activity>
    {
        public ConcurrentQueue<Activity> Spans { get; } = new();

        public override ExportResult Export(in Batch<Activity> batch)
        {
            foreach (var span in batch)
            {
                Spans.Enqueue(span);
            }

            return ExportResult.Success;
        }
    }

    [Fact]
    public async Task OneEventToThreeRecipients_IsOneTrace_IntakePolicyAndADeliveryPerRecipient_WithoutPersonalValues()
    {
        await using var bed = await TestBed.StartAsync();
        var collected = new CollectedSpans();
        await using var gateway = await bed.StartGatewayInProcessAsync(
            replace: services => services.AddSingleton<BaseProcessor<Activity>>(new SimpleActivityExportProcessor(collected)));
        var generator = new SampleEventGenerator(1401, TimeProvider.System);
        var enrolment = generator.NextDutchEnrolment();

        // Published raw, as a school system with its own tracing would: W3C trace context in the message headers.
        var publisherTrace = ActivityTraceId.CreateRandom();
        var publisherSpan = ActivitySpanId.CreateRandom();
        await bed.PublishWithTraceContextAsync(enrolment, publisherTrace, publisherSpan);

        var id = enrolment.EventId.ToString("D");
        await TestBed.WaitUntilAsync("three receipts of the enrolment", () => bed.Receipts.List(null).Count(r => r.IsOf(enrolment.EventId)) >= 3, TimeSpan.FromSeconds(30));
        await TestBed.WaitUntilAsync("the intake span to be exported", () => collected.Spans.Any(s => s.DisplayName.StartsWith("intake", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));

        var trace = collected.Spans.Where(s => s.TraceId == publisherTrace).ToList();
        foreach (var span in trace.OrderBy(s => s.StartTimeUtc))
        {
            output.WriteLine($"{span.Source.Name} '{span.DisplayName}' {span.SpanId} parent {span.ParentSpanId}: {string.Join(", ", span.TagObjects.Select(t => $"{t.Key}={t.Value}"))}" +
                             string.Concat(span.Events.Select(e => $" [{e.Name}: {string.Join(", ", e.Tags.Select(t => $"{t.Key}={t.Value}"))}]")));
        }

        // The tree: intake (child of the publisher's span) → policy → one delivery per recipient → its HTTP call.
        var intake = Assert.Single(trace, s => s.DisplayName == $"intake {bed.QueueName}");
        Assert.Equal(publisherSpan, intake.ParentSpanId);
        Assert.Equal(ActivityKind.Consumer, intake.Kind);
        Assert.Equal("accepted", intake.GetTagItem(GatewayTelemetry.Tags.IntakeOutcome));
        Assert.Equal("school=1", intake.TraceStateString);
        var policy = Assert.Single(trace, s => s.ParentSpanId == intake.SpanId && s.DisplayName == "policy StudentEnrolled");
        Assert.Equal(4, policy.Events.Count(e => e.Name == "decision")); // DUO, the officer, the GGD; the photographer denied (this school is not party to it)
        Assert.Contains(policy.Events, e => e.Tags.Contains(new(GatewayTelemetry.Tags.Recipient, "schoolfotograaf")) && e.Tags.Contains(new(GatewayTelemetry.Tags.Reasons, "controller-not-party")));
        var deliveries = trace.Where(s => s.ParentSpanId == policy.SpanId && s.DisplayName.StartsWith("deliver ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["duo", "ggd", "leerplicht"], deliveries.Select(d => (string)d.GetTagItem(GatewayTelemetry.Tags.Recipient)!).Order());
        Assert.All(deliveries, d =>
        {
            Assert.Equal("delivered", d.GetTagItem(GatewayTelemetry.Tags.Outcome));
            Assert.Contains(trace, http => http.ParentSpanId == d.SpanId && http.Source.Name == "System.Net.Http");
        });

        // No personal value of the event in any span's name, attribute, event or status.
        var values = PersonalValues.Of(enrolment).ToList();
        var texts = trace.SelectMany(s => new[] { s.DisplayName, s.StatusDescription ?? "", s.TraceStateString ?? "" }
            .Concat(s.TagObjects.Select(t => $"{t.Key}={t.Value}"))
            .Concat(s.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name} {t.Key}={t.Value}")))
            .Concat(s.Baggage.Select(b => $"{b.Key}={b.Value}"))).ToList();
        var leaks = values.Where(v => texts.Any(t => t.Contains(v, StringComparison.OrdinalIgnoreCase))).ToList();
        output.WriteLine($"spans in the trace {trace.Count}; texts {texts.Count}; personal values searched {values.Count}; found {leaks.Count}");
        Assert.Empty(leaks);

        // The ledger names the trace, for the ops app's link to a trace viewer.
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT DISTINCT trace_id FROM ledger_entry WHERE event_id = $1");
        command.Parameters.Add(new() { Value = enrolment.EventId });
        Assert.Equal(publisherTrace.ToString(), (string?)await command.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("Telemetry")]
    [InlineData("OTEL")]
    public async Task OtlpOverHttp_ExportsTracesAndMetricsToTheConfiguredCollector_WithoutPersonalValues(string configuredBy)
    {
        // A stand-in collector: what arrives at /v1/traces and /v1/metrics, as bytes.
        var received = new ConcurrentQueue<(string Path, byte[] Body)>();
        var collectorPort = TestServices.FreePort();
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{collectorPort}");
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (Microsoft.AspNetCore.Http.HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            received.Enqueue((http.Request.Path, body.ToArray()));
            return Microsoft.AspNetCore.Http.Results.Ok();
        });
        await collector.StartAsync();

        await using var bed = await TestBed.StartAsync();
        var absence = new SampleEventGenerator(1402, TimeProvider.System).NextAbsenceReported();
        // The gateway's own settings, or the standard OTEL_* variables (here as configuration, as the host reads the environment).
        var settings = configuredBy == "OTEL"
            ? new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{collectorPort}", ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf", ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000" }
            : new Dictionary<string, string?> { ["Telemetry:OtlpEndpoint"] = $"http://127.0.0.1:{collectorPort}", ["Telemetry:OtlpProtocol"] = "http/protobuf" };
        await using (var gateway = await bed.StartGatewayInProcessAsync(settings))
        {
            await bed.PublishAsync([absence]);
            await bed.WaitForTakenAsync(1);
        } // stopping the gateway flushes both providers

        await TestBed.WaitUntilAsync("a trace export and a metric export at the collector", () => received.Any(r => r.Path == "/v1/traces") && received.Any(r => r.Path == "/v1/metrics"), TimeSpan.FromSeconds(15));
        var traces = received.Where(r => r.Path == "/v1/traces").SelectMany(r => r.Body).ToArray();
        var metrics = received.Where(r => r.Path == "/v1/metrics").SelectMany(r => r.Body).ToArray();
        var text = System.Text.Encoding.Latin1.GetString([.. traces, .. metrics]);
        var values = PersonalValues.Of(absence).ToList();
        output.WriteLine($"collector received {received.Count(r => r.Path == "/v1/traces")} trace export(s), {traces.Length} bytes; {received.Count(r => r.Path == "/v1/metrics")} metric export(s), {metrics.Length} bytes; personal values searched {values.Count}");
        Assert.Contains("deliver duo", text);
        Assert.Contains("gateway.transfers", text);
        Assert.Contains("gateway.delivery.duration", text);
        Assert.DoesNotContain(values, v => text.Contains(v, StringComparison.OrdinalIgnoreCase));
    }
}
