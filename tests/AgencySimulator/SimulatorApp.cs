using System.Text.Json;
using System.Text.Json.Nodes;

namespace IntegrationGateway.AgencySimulator;

/// <summary>
/// The agency simulator: <c>POST /recipients/{recipient}/{path}</c> accepts a transfer (JSON body and an
/// <c>Idempotency-Key</c> header), <c>GET /records[?recipient=]</c> lists what was received,
/// <c>GET /records/summary</c> counts it, <c>DELETE /records</c> forgets it, <c>PUT /control/latency/{ms}</c> slows
/// every answer down. Listens on 127.0.0.1 only.
/// </summary>
public static class SimulatorApp
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static WebApplication Create(string[] args, string? url = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(url ?? builder.Configuration["urls"] ?? "http://127.0.0.1:5080");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ReceiptStore>();
        builder.Services.AddSingleton<SimulatorBehaviour>();

        var app = builder.Build();
        app.MapPost("/recipients/{recipient}/{**path}", async (string recipient, string? path, HttpRequest request, ReceiptStore store, SimulatorBehaviour behaviour) =>
        {
            if (behaviour.Latency > TimeSpan.Zero)
            {
                await Task.Delay(behaviour.Latency, request.HttpContext.RequestAborted);
            }

            if (behaviour.FailWith is { } failure)
            {
                behaviour.RecordFailure(recipient);
                return Results.Problem("the simulated agency is failing on purpose", statusCode: failure);
            }

            if (!request.Headers.TryGetValue(IdempotencyKeyHeader, out var key) || string.IsNullOrWhiteSpace(key))
            {
                return Results.Problem($"the {IdempotencyKeyHeader} header is required", statusCode: StatusCodes.Status400BadRequest);
            }

            JsonNode? body;
            try
            {
                body = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            }
            catch (JsonException)
            {
                return Results.Problem("the body is not JSON", statusCode: StatusCodes.Status400BadRequest);
            }

            var (receipt, duplicate) = store.Record(recipient, path ?? "", key.ToString(), body);
            return Results.Json(new { receiptId = receipt.ReceiptId, duplicate }, statusCode: duplicate ? StatusCodes.Status200OK : StatusCodes.Status201Created);
        });
        app.MapGet("/records", (string? recipient, ReceiptStore store) => Results.Json(store.List(recipient)));
        app.MapGet("/records/summary", (ReceiptStore store) => Results.Json(store.List(null)
            .GroupBy(r => r.Recipient)
            .Select(g => new { recipient = g.Key, receipts = g.Count(), deliveries = g.Sum(r => r.Deliveries), duplicateDeliveries = g.Sum(r => r.Deliveries - 1) })));
        app.MapDelete("/records", (ReceiptStore store) =>
        {
            store.Clear();
            return Results.NoContent();
        });
        app.MapPut("/control/latency/{milliseconds:int}", (int milliseconds, SimulatorBehaviour behaviour) =>
        {
            behaviour.Latency = TimeSpan.FromMilliseconds(Math.Clamp(milliseconds, 0, 60_000));
            return Results.NoContent();
        });
        app.MapPut("/control/fail/{status:int}", (int status, SimulatorBehaviour behaviour) =>
        {
            behaviour.FailWith = status is >= 400 and <= 599 ? status : null;
            return Results.NoContent();
        });
        app.MapDelete("/control/fail", (SimulatorBehaviour behaviour) =>
        {
            behaviour.FailWith = null;
            return Results.NoContent();
        });
        app.MapGet("/health", () => Results.Ok("ok"));
        return app;
    }
}

/// <summary>How the simulated agencies behave right now; tests change it while the simulator runs.</summary>
public sealed class SimulatorBehaviour
{
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _failures = new();

    public TimeSpan Latency { get; set; }

    /// <summary>When set, every transfer is answered with this status code and not recorded.</summary>
    public int? FailWith { get; set; }

    public void RecordFailure(string recipient) => _failures.AddOrUpdate(recipient, 1, (_, n) => n + 1);

    /// <summary>Transfers answered with <see cref="FailWith"/>, per recipient.</summary>
    public int FailuresFor(string recipient) => _failures.TryGetValue(recipient, out var n) ? n : 0;
}
