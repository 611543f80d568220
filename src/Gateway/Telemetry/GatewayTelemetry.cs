using System.Diagnostics;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace IntegrationGateway.Gateway.Telemetry;

/// <summary>
/// The gateway's traces: one per event, from the intake through the policy decision to each recipient's delivery
/// (and the HTTP call under it), continuing the publisher's W3C trace context when the message carries one
/// (<c>traceparent</c>, <c>tracestate</c> headers). Span names and attributes name event types, agreements,
/// recipients, outcomes and rules: never a value of the event.
/// </summary>
public static class GatewayTelemetry
{
    public const string SourceName = "IntegrationGateway";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Attribute names; <c>integration_gateway.*</c> for what no semantic convention names.</summary>
    public static class Tags
    {
        public const string EventType = "integration_gateway.event.type";
        public const string EventId = "integration_gateway.event.id";
        public const string Controller = "integration_gateway.controller";
        public const string IntakeOutcome = "integration_gateway.intake.outcome";
        public const string Rule = "integration_gateway.intake.rule";
        public const string Agreement = "integration_gateway.agreement.id";
        public const string Recipient = "integration_gateway.recipient";
        public const string Outcome = "integration_gateway.outcome";
        public const string Reasons = "integration_gateway.reasons";
        public const string Decisions = "integration_gateway.decisions";
        public const string StatusCode = "http.response.status_code";
    }

    /// <summary>
    /// The span of one delivery of a message from the intake queue: a child of the publisher's span when the message
    /// carries a valid <c>traceparent</c>, a new trace otherwise.
    /// </summary>
    public static Activity? StartIntake(string queue, IDictionary<string, object?>? headers)
    {
        ActivityContext parent = default;
        if (Header(headers, "traceparent") is { } traceparent)
        {
            ActivityContext.TryParse(traceparent, Header(headers, "tracestate"), isRemote: true, out parent);
        }

        return Source.StartActivity("intake " + queue, ActivityKind.Consumer, parent, [
            new("messaging.system", "rabbitmq"),
            new("messaging.operation.type", "process"),
            new("messaging.destination.name", queue),
        ]);
    }

    /// <summary>A header as text: RabbitMQ hands string headers over as bytes. Only short ASCII is taken.</summary>
    static string? Header(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value) && value switch
        {
            byte[] bytes when bytes.Length <= 512 => Encoding.ASCII.GetString(bytes),
            string text when text.Length <= 512 => text,
            _ => null,
        } is { } header && header.All(char.IsAscii) ? header : null;
}

/// <summary>Where traces and metrics go: <c>Telemetry:OtlpEndpoint</c> (OTLP over gRPC or HTTP/protobuf), or nowhere.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>e.g. <c>http://127.0.0.1:4317</c>; unset: spans and metrics are made only for in-process listeners.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>The service name traces carry.</summary>
    public string ServiceName { get; set; } = "integration-gateway";

    /// <summary>
    /// A trace viewer's address for one trace, <c>{traceId}</c> standing for its id, e.g.
    /// <c>http://127.0.0.1:16686/trace/{traceId}</c> (Jaeger); the ops app links transfers to it.
    /// </summary>
    public string? TraceViewerUrl { get; set; }
}

public static class TelemetryRegistration
{
    /// <summary>
    /// Traces (the gateway's own spans and the HTTP calls under them) and metrics (intake and transfers) through
    /// OpenTelemetry's hosting package: the providers start and stop with the host, which flushes what is buffered.
    /// OTLP goes to <c>Telemetry:OtlpEndpoint</c> when set, else to <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> when that is
    /// set (the exporter reads the other <c>OTEL_EXPORTER_OTLP_*</c> variables itself); otherwise nothing leaves the
    /// process. <c>OTEL_SERVICE_NAME</c> wins over <c>Telemetry:ServiceName</c>. Processors registered as
    /// <see cref="BaseProcessor{Activity}"/> are added (tests collect spans so).
    /// </summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.Section))
            .Validate(o => o.OtlpEndpoint is null || Uri.TryCreate(o.OtlpEndpoint, UriKind.Absolute, out _), $"{TelemetryOptions.Section}:OtlpEndpoint must be an absolute URL")
            .Validate(o => o.OtlpProtocol is "grpc" or "http/protobuf", $"{TelemetryOptions.Section}:OtlpProtocol must be grpc or http/protobuf")
            .ValidateOnStart();
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var fromEnvironment = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrEmpty(configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService(options.ServiceName);
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(GatewayTelemetry.SourceName, "System.Net.Http");
                // Whatever processors the services hold (none, in production), as one; a composite may not be empty.
                tracing.AddProcessor(provider => new CompositeProcessor<Activity>([new NoProcessor(), .. provider.GetServices<BaseProcessor<Activity>>()]));
                // Spans are recorded only when something takes them (an exporter, or a processor such as a test's): with
                // none, the six or so spans of every event, and the HTTP client's, would cost CPU for nothing.
                var exported = options.OtlpEndpoint is not null || fromEnvironment;
                tracing.SetSampler(provider => exported || provider.GetServices<BaseProcessor<Activity>>().Any()
                    ? new ParentBasedSampler(new AlwaysOnSampler())
                    : new AlwaysOffSampler());
                if (options.OtlpEndpoint is { } endpoint)
                {
                    tracing.AddOtlpExporter(otlp => Otlp(otlp, endpoint, options.OtlpProtocol, "v1/traces"));
                }
                else if (fromEnvironment)
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Intake.IntakeCounters.MeterName, Delivery.TransferCounters.MeterName);
                if (options.OtlpEndpoint is { } endpoint)
                {
                    metrics.AddOtlpExporter(otlp => Otlp(otlp, endpoint, options.OtlpProtocol, "v1/metrics"));
                }
                else if (fromEnvironment)
                {
                    metrics.AddOtlpExporter();
                }
            });
        return services;
    }

    /// <summary>
    /// gRPC takes the collector's address as it is; over HTTP each signal has its own path below it (set in code, the
    /// exporter does not add it), so one setting serves traces and metrics alike.
    /// </summary>
    static void Otlp(OpenTelemetry.Exporter.OtlpExporterOptions otlp, string endpoint, string protocol, string signalPath)
    {
        var grpc = protocol == "grpc";
        otlp.Protocol = grpc ? OpenTelemetry.Exporter.OtlpExportProtocol.Grpc : OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
        otlp.Endpoint = grpc ? new Uri(endpoint) : new Uri(endpoint.TrimEnd('/') + "/" + signalPath);
    }

    sealed class NoProcessor : BaseProcessor<Activity>;
}
