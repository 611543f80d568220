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

    public static Task<DeliveryResult> PostAsync(
        HttpClient client, string relativePath, OutboundTransfer transfer, HttpContent content, CancellationToken cancellationToken) =>
        DeliverAsync(client.BaseAddress, content, async token =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, relativePath) { Content = content };
            request.Headers.Add(IdempotencyKeyHeader, transfer.IdempotencyKey);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            return await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// One delivery however the request is made (by hand, or by a Refit client the recipient's folder declares): the
    /// hash of the exact bytes sent, the answer mapped to a result, the failures that mean "try again" made transient.
    /// </summary>
    /// <param name="endpoint">Where it goes, for the problem text only.</param>
    /// <param name="content">The body, as it goes on the wire.</param>
    /// <param name="send">Sends it (the caller's client carries the idempotency key) and returns the answer.</param>
    /// <param name="cancellationToken">Cancelled at shutdown.</param>
    public static async Task<DeliveryResult> DeliverAsync(
        Uri? endpoint, HttpContent content, Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        var sent = System.Security.Cryptography.SHA256.HashData(await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
        try
        {
            using var response = await send(cancellationToken).ConfigureAwait(false);
            var statusCode = (int)response.StatusCode;
            var receipt = response.IsSuccessStatusCode
                ? await ReadReceiptAsync(response, cancellationToken).ConfigureAwait(false)
                : null;
            return DeliveryResult.FromStatusCode(statusCode, receipt) with { RetryAfter = RecipientResilience.RetryAfter(response, TimeProvider.System), SentSha256 = sent };
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException or IOException || ex.StatusCode is null)
        {
            return DeliveryResult.Unreachable($"{endpoint}: {ex.HttpRequestError}");
        }
        catch (Polly.Timeout.TimeoutRejectedException ex)
        {
            return DeliveryResult.Unreachable($"{endpoint}: timed out after {ex.Timeout.TotalSeconds:0.#} s");
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException)
        {
            // Failing fast while the recipient is known to be down: no attempt was made.
            return DeliveryResult.Unreachable($"{endpoint}: circuit open");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryResult.Unreachable($"{endpoint}: timed out");
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
