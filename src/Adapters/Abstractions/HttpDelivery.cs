using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace IntegrationGateway.Adapters;

/// <summary>
/// The part of a delivery over HTTP that every recipient shares: send the bytes with the idempotency key,
/// map the answer to a <see cref="DeliveryResult"/>, read the receipt. Exceptions that mean "try again"
/// become transient results; their messages name the endpoint, never the payload.
/// </summary>
public static class HttpDelivery
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static async Task<DeliveryResult> PostAsync(
        HttpClient client, string relativePath, OutboundTransfer transfer, HttpContent content, CancellationToken cancellationToken)
    {
        var sent = System.Security.Cryptography.SHA256.HashData(await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
        using var request = new HttpRequestMessage(HttpMethod.Post, relativePath) { Content = content };
        request.Headers.Add(IdempotencyKeyHeader, transfer.IdempotencyKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken)
                .ConfigureAwait(false);
            var statusCode = (int)response.StatusCode;
            var receipt = response.IsSuccessStatusCode
                ? await ReadReceiptAsync(response, cancellationToken).ConfigureAwait(false)
                : null;
            return DeliveryResult.FromStatusCode(statusCode, receipt) with { RetryAfter = RecipientResilience.RetryAfter(response, TimeProvider.System), SentSha256 = sent };
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException or IOException || ex.StatusCode is null)
        {
            return DeliveryResult.Unreachable($"{client.BaseAddress}: {ex.HttpRequestError}");
        }
        catch (Polly.Timeout.TimeoutRejectedException ex)
        {
            return DeliveryResult.Unreachable($"{client.BaseAddress}: timed out after {ex.Timeout.TotalSeconds:0.#} s");
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException)
        {
            // Failing fast while the recipient is known to be down: no attempt was made.
            return DeliveryResult.Unreachable($"{client.BaseAddress}: circuit open");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryResult.Unreachable($"{client.BaseAddress}: timed out");
        }
    }

    static async Task<string?> ReadReceiptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return null;
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(
                await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("receiptId", out var receipt)
                && receipt.ValueKind == JsonValueKind.String
                    ? receipt.GetString()
                    : null;
        }
        catch (JsonException)
        {
            // The transfer was accepted; an unreadable receipt does not undo that.
            return null;
        }
    }
}
