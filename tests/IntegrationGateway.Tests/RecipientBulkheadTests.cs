using System.Net;
using IntegrationGateway.Adapters;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;

namespace IntegrationGateway.Tests;

/// <summary>
/// The recipient's resilience pipeline as built for its HTTP client: a blip is retried in process, a recipient that
/// keeps failing is not, so its transfers park after one attempt instead of holding the intake through backoffs.
/// </summary>
public sealed class RecipientBulkheadTests
{
    static (ResiliencePipeline<HttpResponseMessage> Pipeline, RecipientResilience Resilience) Pipeline()
    {
        // The circuit kept out of it (it would open after 8 calls): what is measured here is the retry alone.
        var options = new RecipientResilienceOptions { Attempts = 4, RetryBaseDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromMilliseconds(20), CircuitMinimumThroughput = 1000 };
        var resilience = new RecipientResilience(Options.Create(options), TimeProvider.System, NullLogger<RecipientResilience>.Instance);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        resilience.Configure(builder, "leerplicht", TimeSpan.FromSeconds(5));
        return (builder.Build(), resilience);
    }

    static Task<HttpResponseMessage> Send(ResiliencePipeline<HttpResponseMessage> pipeline, Func<HttpStatusCode> answer) =>
        pipeline.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(answer())), CancellationToken.None).AsTask();

    [Fact]
    public async Task ABlipAmongSuccesses_IsRetriedInProcess()
    {
        var (pipeline, resilience) = Pipeline();
        var calls = 0;

        var response = await Send(pipeline, () => calls++ == 0 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.Created);

        Assert.Equal((HttpStatusCode.Created, 2), (response.StatusCode, calls));
        Assert.False(resilience.IsFailing("leerplicht"));
    }

    [Fact]
    public async Task ARecipientThatKeepsFailing_HasOneRetry_ThenEachTransferTriedOnce_UntilItAnswersAgain()
    {
        var (pipeline, resilience) = Pipeline();
        var calls = 0;
        await Send(pipeline, () => HttpStatusCode.Created);

        var failing = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            failing.Add((await Send(pipeline, () => { calls++; return HttpStatusCode.ServiceUnavailable; })).StatusCode);
        }

        // The first transfer: its attempt and one retry; the four after it: one attempt each (4 attempts each before).
        Assert.All(failing, status => Assert.Equal(HttpStatusCode.ServiceUnavailable, status));
        Assert.Equal(2 + 4, calls);
        Assert.True(resilience.IsFailing("leerplicht"));

        // It answers again: the next blip is retried in process again.
        await Send(pipeline, () => HttpStatusCode.Created);
        calls = 0;
        var after = await Send(pipeline, () => calls++ == 0 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.Created);
        Assert.Equal((HttpStatusCode.Created, 2), (after.StatusCode, calls));
    }

    [Fact]
    public async Task ARefusal_IsAnAnswer_NotAFailure()
    {
        var (pipeline, resilience) = Pipeline();
        await Send(pipeline, () => HttpStatusCode.ServiceUnavailable);
        Assert.True(resilience.IsFailing("leerplicht"));

        await Send(pipeline, () => HttpStatusCode.UnprocessableEntity);

        Assert.False(resilience.IsFailing("leerplicht"));
    }
}
