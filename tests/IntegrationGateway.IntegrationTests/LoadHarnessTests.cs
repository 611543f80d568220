using System.Diagnostics;
using System.Text.Json;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// The load harness's smoke run in CI: <c>deploy/local/load.sh</c>'s program, with a few hundred messages per consumer,
/// writes its report, JSON and chart, and every gateway row is accounted for. Its figures are not looked at here (a
/// benchmark reports, never asserts); the full run is <c>deploy/local/load.sh</c>.
/// </summary>
[Trait("Tier", "Load")]
public sealed class LoadHarnessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task LoadHarness_SmallRun_WritesReportJsonAndChart_WithEveryGatewayRowAccounted()
    {
        TestServices.RequireBroker();
        await TestServices.RequireDatabaseAsync();
        var harness = Path.Combine(RepoPaths.Root, "tests", "IntegrationGateway.Load", "bin", new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name, "net10.0", "IntegrationGateway.Load.dll");
        Assert.True(File.Exists(harness), $"the load harness is not built at {harness}");
        var folder = Directory.CreateTempSubdirectory("ig-load-");
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
            foreach (var argument in new[] { harness, "--events", "400", "--warmup", "100", "--paced", "200", "--out", folder.FullName })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Its gateway and simulator must not go on loading the shared services under the next tests.
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"the load harness did not finish in 8 minutes: {await stderr}");
            }

            output.WriteLine(await stderr);
            Assert.True(process.ExitCode == 0, $"load harness exited {process.ExitCode}: {await stdout}");
            foreach (var file in new[] { "report.md", "report.json", "report.png" })
            {
                Assert.True(new FileInfo(Path.Combine(folder.FullName, file)) is { Exists: true, Length: > 0 }, $"{file} was not written");
            }

            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder.FullName, "report.json")));
            var rows = report.RootElement.GetProperty("rows").EnumerateArray().ToList();
            Assert.Contains(rows, r => r.GetProperty("Consumer").GetString() == "RabbitMQ.Client, ack only");
            Assert.Contains(rows, r => r.GetProperty("Consumer").GetString() == "MassTransit 8.5.12, no-op");
            var gateway = rows.Where(r => r.GetProperty("Consumer").GetString() == "gateway").ToList();
            Assert.Equal(3, gateway.Count);
            Assert.All(gateway, r => Assert.True(r.GetProperty("Accounted").GetBoolean(), r.GetProperty("Accounting").GetString()));
            Assert.All(rows, r => Assert.True(r.GetProperty("MessagesPerSecond").GetDouble() > 0));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
