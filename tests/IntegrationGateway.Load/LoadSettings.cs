using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using IntegrationGateway.Gateway.Hosting;
using Npgsql;

namespace IntegrationGateway.Load;

/// <summary>
/// Where the harness finds the local services and the built programs: from the environment deploy/local/env.sh
/// exports (load.sh sources it), with the load harness's own RabbitMQ virtual host and PostgreSQL database.
/// </summary>
internal static partial class LoadSettings
{
    public static string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException($"{name} is not set: run the harness through deploy/local/load.sh, which sources deploy/local/env.sh");

    public static string Root => Env("IG_ROOT");

    public static RabbitMqOptions Broker() => new()
    {
        Host = Env("RabbitMq__Host"),
        Port = int.Parse(Env("RabbitMq__Port"), CultureInfo.InvariantCulture),
        VirtualHost = Env("IG_RABBITMQ_LOAD_VHOST"),
        Username = Env("RabbitMq__Username"),
        Password = Env("RabbitMq__Password"),
        // TLS as env.sh sets it for the tests' smoke run; load.sh turns it off (plain loopback, see there).
        Tls = new RabbitMqTlsOptions
        {
            Enabled = string.Equals(Environment.GetEnvironmentVariable("RabbitMq__Tls__Enabled"), "true", StringComparison.OrdinalIgnoreCase),
            CaFile = Environment.GetEnvironmentVariable("RabbitMq__Tls__CaFile") is { Length: > 0 } caFile ? caFile : null,
        },
    };

    public static string Database() => new NpgsqlConnectionStringBuilder(Env("ConnectionStrings__Gateway")) { Database = Env("IG_POSTGRES_LOAD_DB") }.ConnectionString;

    public static int SimulatorPort => int.TryParse(Environment.GetEnvironmentVariable("IG_LOAD_SIMULATOR_PORT"), out var port) ? port : 5085;

    public static int GatewayPort => int.TryParse(Environment.GetEnvironmentVariable("IG_LOAD_GATEWAY_PORT"), out var port) ? port : 5075;

    /// <summary>A program of the solution as built in the harness's own configuration (Release from load.sh; Debug in the tests' smoke run).</summary>
    public static string Built(string project, string dll) => Path.Combine(Root, project, "bin", Configuration, "net10.0", dll);

    static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The RabbitMQ node's Erlang VM: the one deploy/local started for this state folder (its environment says which).</summary>
    public static int? RabbitMqPid() => _rabbitMq is { } pid && ProcessCpu.Seconds(pid) is not null ? pid
        : _rabbitMq = ProcessCpu.Find("beam.smp", $"RABBITMQ_ENABLED_PLUGINS_FILE={Path.Combine(Env("IG_STATE_DIR"), "rabbitmq", "enabled_plugins")}");

    static int? _rabbitMq;

    /// <summary>The PostgreSQL postmaster, from its pid file.</summary>
    public static int? PostgresPid()
    {
        var file = Path.Combine(Env("IG_STATE_DIR"), "postgres", "data", "postmaster.pid");
        try
        {
            return int.TryParse(File.ReadLines(file).First(), out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Starts a built program with <c>dotnet</c>, its output to a log file, with these settings on top of the environment.</summary>
    public static Process Start(string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> settings, string log, Action<string>? onLine = null)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {dll}");
        var writer = TextWriter.Synchronized(new StreamWriter(log, append: false) { AutoFlush = true });
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                writer.WriteLine(e.Data);
                onLine?.Invoke(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                writer.WriteLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.Exited += (_, _) => writer.Dispose();
        process.EnableRaisingEvents = true;
        return process;
    }

    /// <summary>Asks a process to stop as an operator would (SIGTERM), then waits; kills it if it does not stop in time.</summary>
    public static async Task StopAsync(Process process, TimeSpan timeout)
    {
        if (process.HasExited)
        {
            return;
        }

        _ = Kill(process.Id, 15);
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
