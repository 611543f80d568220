using System.Text.Json;
using System.Text.Json.Nodes;

namespace IntegrationGateway.AgencySimulator;

/// <summary>
/// The agency simulator: <c>POST /recipients/{recipient}/{path}</c> accepts a transfer (JSON body, an
/// <c>Idempotency-Key</c> header and a valid Standard Webhooks signature under that recipient's secret, from
/// <c>Recipients:{id}:SigningSecret</c> or <c>Signing:SecretsDirectory</c>), checks its fields against the agreement's
/// allow-list (<c>Agreements:Directory</c>), <c>GET /records[?recipient=]</c> lists what was received,
/// <c>GET /records/summary</c> counts it (duplicate deliveries and duplicate effects apart, invalid signatures,
/// records outside the allow-list), <c>DELETE /records</c> forgets it; <c>/control/...</c> makes recipients misbehave.
/// Listens on 127.0.0.1 only.
/// </summary>
public static class SimulatorApp
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The name the token endpoint's requests are noted under in <see cref="ReceiptStore.Attempts"/>.</summary>
    public const string TokenEndpoint = "oauth-token";

    public static WebApplication Create(string[] args, string? url = null, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        // The gateway's appsettings.json lands beside the simulator (it references the gateway for the agreement
        // loader); it is not the simulator's configuration.
        foreach (var json in builder.Configuration.Sources.OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationSource>().ToList())
        {
            builder.Configuration.Sources.Remove(json);
        }

        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(url ?? builder.Configuration["urls"] ?? "http://127.0.0.1:5080");
        if (builder.Configuration["Tls:CertificateFile"] is { } certificateFile)
        {
            // HTTPS that asks every client for a certificate issued by the agencies' CA (mutual TLS).
            var serverCertificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(certificateFile, builder.Configuration["Tls:CertificatePassword"]);
            var clientAuthority = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(builder.Configuration["Tls:ClientAuthorityFile"]!);
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
            {
                https.ServerCertificate = serverCertificate;
                https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (certificate, _, _) =>
                {
                    using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                    chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(clientAuthority);
                    chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                    return chain.Build(certificate);
                };
            }));
        }
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ReceiptStore>();
        builder.Services.AddSingleton<SimulatorBehaviour>();
        builder.Services.AddSingleton<SignatureCheck>();
        builder.Services.AddSingleton<AllowListCheck>();
        builder.Services.AddSingleton<OAuthServer>();

        var app = builder.Build();
        app.MapPost("/oauth/token", (HttpRequest request, OAuthServer oauth, ReceiptStore store) =>
        {
            store.Attempted(TokenEndpoint, request.Headers);
            return oauth.Token(request);
        }).DisableAntiforgery();
        app.MapDelete("/oauth/tokens", (OAuthServer oauth) =>
        {
            oauth.RevokeAll();
            return Results.NoContent();
        });
        app.MapPost("/recipients/{recipient}/{**path}", async (string recipient, string? path, HttpContext http, ReceiptStore store, SimulatorBehaviour behaviour, SignatureCheck signatures, AllowListCheck allowLists, OAuthServer oauth) =>
        {
            var request = http.Request;
            store.Attempted(recipient, request.Headers);
            var misbehaviour = behaviour.For(recipient);
            var latency = misbehaviour?.Latency ?? behaviour.Latency;
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, http.RequestAborted);
            }

            if (misbehaviour is { ResetConnection: true })
            {
                behaviour.RecordFailure(recipient);
                http.Abort(); // the connection is reset: no status code at all
                return Results.Empty;
            }

            if (misbehaviour is { RedirectTo: { } elsewhere })
            {
                // A hijacked or misconfigured endpoint sending the signed payload on (307/308 keep the method and body).
                behaviour.RecordFailure(recipient);
                http.Response.Headers.Location = elsewhere.ToString();
                return Results.StatusCode(misbehaviour.Status ?? StatusCodes.Status307TemporaryRedirect);
            }

            if ((misbehaviour?.Status ?? behaviour.FailWith) is { } failure)
            {
                behaviour.RecordFailure(recipient);
                if (misbehaviour?.RetryAfterSeconds is { } retryAfter)
                {
                    http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                return Results.Problem("the simulated agency is failing on purpose", statusCode: failure);
            }

            var clientCertificate = http.Connection.ClientCertificate?.Subject;
            if (http.RequestServices.GetRequiredService<IConfiguration>()[$"Recipients:{recipient}:RequireClientCertificate"] == "true" && clientCertificate is null)
            {
                return Results.Problem("this agency accepts transfers only over mutual TLS", statusCode: StatusCodes.Status403Forbidden);
            }

            if (oauth.Protects(recipient) && oauth.Problem(recipient, request) is { } unauthorised)
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return Results.Problem(unauthorised, statusCode: StatusCodes.Status401Unauthorized);
            }

            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, http.RequestAborted);
            var bytes = buffer.ToArray();
            if (signatures.Problem(recipient, request.Headers, bytes) is { } problem)
            {
                behaviour.RecordInvalidSignature(recipient);
                return Results.Problem($"signature rejected: {problem}", statusCode: StatusCodes.Status401Unauthorized);
            }

            if (!request.Headers.TryGetValue(IdempotencyKeyHeader, out var key) || string.IsNullOrWhiteSpace(key))
            {
                return Results.Problem($"the {IdempotencyKeyHeader} header is required", statusCode: StatusCodes.Status400BadRequest);
            }

            // A recipient's own wire format is read back by the decoder in its adapter folder; anything else is JSON.
            JsonNode? body;
            var decoder = WireFormats.Decoders.FirstOrDefault(d => d.Reads(request.ContentType));
            try
            {
                body = decoder is null ? JsonNode.Parse(bytes) : decoder.Decode(bytes);
            }
            catch (Exception ex) when (ex is JsonException or System.Xml.XmlException or FormatException)
            {
                return Results.Problem($"the body is not the expected {decoder?.Format ?? "JSON"}", statusCode: StatusCodes.Status400BadRequest);
            }

            var outside = allowLists.FieldsOutside(body);
            var (receipt, duplicate) = store.Record(recipient, path ?? "", key.ToString(), body, outside, decoder?.Format ?? "json", clientCertificate, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
            var status = duplicate ? StatusCodes.Status200OK : StatusCodes.Status201Created;
            return misbehaviour is { ReceiptPadding: > 0 and var padding }
                ? Results.Json(new { receiptId = receipt.ReceiptId, duplicate, padding = new string('x', padding) }, statusCode: status)
                : Results.Json(new { receiptId = receipt.ReceiptId, duplicate }, statusCode: status);
        });
        app.MapGet("/records", (string? recipient, ReceiptStore store) => Results.Json(store.List(recipient)));
        app.MapGet("/records/summary", (ReceiptStore store, SimulatorBehaviour behaviour) => Results.Json(store.List(null)
            .GroupBy(r => r.Recipient)
            .Select(g => new
            {
                recipient = g.Key,
                receipts = g.Count(),
                deliveries = g.Sum(r => r.Deliveries),
                duplicateDeliveries = g.Sum(r => r.Deliveries - 1),
                duplicateEffects = store.DuplicateEffects(g.Key),
                outsideAllowList = g.Count(r => r.FieldsOutsideAllowList.Count > 0),
                invalidSignatures = behaviour.InvalidSignaturesFor(g.Key),
            })));
        app.MapGet("/oauth/summary", (OAuthServer oauth, IConfiguration configuration) => Results.Json(configuration.GetSection("Recipients").GetChildren()
            .Where(r => r["OAuthClientId"] is not null)
            .Select(r => new { recipient = r.Key, tokensIssued = oauth.IssuedFor(r.Key.ToLowerInvariant()), refused = oauth.RefusedFor(r.Key.ToLowerInvariant()) })));
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
        // One recipient misbehaves for a while: ?status=503&retryAfter=5&seconds=30, ?reset=true, ?latencyMs=2000.
        app.MapPut("/control/recipients/{recipient}", (string recipient, int? status, int? retryAfter, bool? reset, int? latencyMs, int? seconds, int? times, SimulatorBehaviour behaviour, TimeProvider time) =>
        {
            behaviour.Set(recipient, new Misbehaviour(
                status is >= 400 and <= 599 ? status : null,
                retryAfter,
                reset ?? false,
                TimeSpan.FromMilliseconds(Math.Clamp(latencyMs ?? 0, 0, 120_000)),
                seconds is > 0 ? time.GetUtcNow().AddSeconds(seconds.Value) : null,
                times is > 0 ? times : null));
            return Results.NoContent();
        });
        app.MapDelete("/control/recipients/{recipient}", (string recipient, SimulatorBehaviour behaviour) =>
        {
            behaviour.Clear(recipient);
            return Results.NoContent();
        });
        // A stand-in OpenTelemetry collector (compose's otel-sink): OTLP/HTTP exports are counted by signal, not decoded or kept.
        var exports = new System.Collections.Concurrent.ConcurrentDictionary<string, (long Exports, long Bytes)>(StringComparer.Ordinal);
        foreach (var signal in new[] { "traces", "metrics", "logs" })
        {
            app.MapPost($"/v1/{signal}", async (HttpRequest request) =>
            {
                var length = 0L;
                var buffer = new byte[16 * 1024];
                int read;
                while ((read = await request.Body.ReadAsync(buffer)) > 0)
                {
                    length += read;
                }

                exports.AddOrUpdate(signal, (1, length), (_, seen) => (seen.Exports + 1, seen.Bytes + length));
                return Results.Ok();
            });
        }

        app.MapGet("/v1/summary", () => Results.Json(exports.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new { signal = e.Key, exports = e.Value.Exports, bytes = e.Value.Bytes })));
        app.MapGet("/health", () => Results.Ok("ok"));
        return app;
    }
}

/// <summary>
/// How one recipient misbehaves, until <see cref="Until"/> or for the next <see cref="Times"/> requests (or until
/// cleared). With <see cref="ReceiptPadding"/> it accepts and records the transfer, but answers with a receipt padded
/// by that many bytes. With <see cref="RedirectTo"/> it answers <see cref="Status"/> (307 unless set) with that
/// <c>Location</c>, and records nothing.
/// </summary>
public sealed record Misbehaviour(int? Status, int? RetryAfterSeconds, bool ResetConnection, TimeSpan Latency, DateTimeOffset? Until, int? Times = null, int? ReceiptPadding = null, Uri? RedirectTo = null);

/// <summary>How the simulated agencies behave right now; tests change it while the simulator runs.</summary>
public sealed class SimulatorBehaviour(TimeProvider time)
{
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _failures = new();
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _invalidSignatures = new();
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, Misbehaviour> _misbehaviours = new();
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _remaining = new();
    readonly System.Collections.Concurrent.ConcurrentQueue<(string Recipient, DateTimeOffset At)> _failureTimes = new();

    public TimeSpan Latency { get; set; }

    /// <summary>When set, every transfer is answered with this status code and not recorded.</summary>
    public int? FailWith { get; set; }

    public void Set(string recipient, Misbehaviour misbehaviour)
    {
        _remaining[recipient] = misbehaviour.Times ?? int.MaxValue;
        _misbehaviours[recipient] = misbehaviour;
    }

    public void Clear(string recipient) => _misbehaviours.TryRemove(recipient, out _);

    /// <summary>The recipient's misbehaviour if one is set and not over; each call uses up one of its <see cref="Misbehaviour.Times"/>.</summary>
    public Misbehaviour? For(string recipient)
    {
        if (!_misbehaviours.TryGetValue(recipient, out var m) || (m.Until is { } until && time.GetUtcNow() >= until))
        {
            return null;
        }

        return m.Times is null || _remaining.AddOrUpdate(recipient, 0, (_, n) => n - 1) >= 0 ? m : null;
    }

    public void RecordFailure(string recipient)
    {
        _failures.AddOrUpdate(recipient, 1, (_, n) => n + 1);
        _failureTimes.Enqueue((recipient, time.GetUtcNow()));
    }

    /// <summary>When each failure was served, per recipient, oldest first.</summary>
    public IReadOnlyList<DateTimeOffset> FailureTimesFor(string recipient) => _failureTimes.Where(f => f.Recipient == recipient).Select(f => f.At).ToList();

    /// <summary>Transfers answered with a failure (status or reset), per recipient.</summary>
    public int FailuresFor(string recipient) => _failures.TryGetValue(recipient, out var n) ? n : 0;

    public void RecordInvalidSignature(string recipient) => _invalidSignatures.AddOrUpdate(recipient, 1, (_, n) => n + 1);

    public int InvalidSignaturesFor(string recipient) => _invalidSignatures.TryGetValue(recipient, out var n) ? n : 0;
}

/// <summary>Every wire-format decoder the adapters declare, found once.</summary>
static class WireFormats
{
    public static readonly IReadOnlyList<Adapters.IWireFormatDecoder> Decoders = [.. typeof(Adapters.IWireFormatDecoder).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(Adapters.IWireFormatDecoder).IsAssignableFrom(t))
        .Select(t => (Adapters.IWireFormatDecoder)Activator.CreateInstance(t)!)];
}
