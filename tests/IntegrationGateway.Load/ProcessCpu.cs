using System.Globalization;

namespace IntegrationGateway.Load;

/// <summary>
/// CPU time and peak memory of the processes a measurement involves, read from Linux's <c>/proc</c>: user plus system
/// time in clock ticks (100 per second). A process group's figure (PostgreSQL: the postmaster and its backends) adds
/// the children it reaped, so a backend that closed during the run is still counted.
/// </summary>
internal static class ProcessCpu
{
    const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on

    /// <summary>CPU seconds of the process so far (user + system), or null when it is gone.</summary>
    public static double? Seconds(int pid, bool withReapedChildren = false)
    {
        var fields = StatFields(pid);
        if (fields is null)
        {
            return null;
        }

        // After the ")" that ends the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        var ticks = Field(fields, 14) + Field(fields, 15) + (withReapedChildren ? Field(fields, 16) + Field(fields, 17) : 0);
        return ticks / TicksPerSecond;
    }

    /// <summary>The process and its live children (PostgreSQL's postmaster and backends), reaped children included.</summary>
    public static double? TreeSeconds(int pid)
    {
        var own = Seconds(pid, withReapedChildren: true);
        if (own is null)
        {
            return null;
        }

        // The backends are listed again once a second, not at every sample: listing /proc costs the harness a few ms.
        if (_children is not { } cached || cached.Parent != pid || Environment.TickCount64 - cached.At > 1000)
        {
            _children = cached = (pid, Environment.TickCount64, [.. ChildrenOf(pid)]);
        }

        return own + cached.Pids.Sum(child => Seconds(child) ?? 0);
    }

    static (int Parent, long At, int[] Pids)? _children;

    /// <summary>
    /// The machine's CPU seconds so far: all of it (every state but idle and I/O wait) and the share the hypervisor took
    /// for other guests (steal), from the first line of <c>/proc/stat</c>.
    /// </summary>
    public static (double Busy, double Steal) Machine()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long F(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
        // cpu user nice system idle iowait irq softirq steal
        return ((F(1) + F(2) + F(3) + F(6) + F(7) + F(8)) / TicksPerSecond, F(8) / TicksPerSecond);
    }

    /// <summary>Peak resident set (VmHWM) in MiB, or null when the process is gone.</summary>
    public static double? PeakRssMiB(int pid) => StatusKiB(pid, "VmHWM:") / 1024.0;

    public static double? RssMiB(int pid) => StatusKiB(pid, "VmRSS:") / 1024.0;

    /// <summary>The first process whose command line contains <paramref name="command"/> and whose environment holds <paramref name="variable"/>.</summary>
    public static int? Find(string command, string variable)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(command, StringComparison.Ordinal)
                    && File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains(variable, StringComparer.Ordinal))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && StatFields(pid) is { } fields && Field(fields, 4) == parent)
            {
                yield return pid;
            }
        }
    }

    static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
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

    // Field n as man proc numbers it (1-based, pid is 1 and comm 2); the array starts at field 3.
    static long Field(string[] fields, int n) => long.Parse(fields[n - 3], CultureInfo.InvariantCulture);

    static long? StatusKiB(int pid, string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>
/// Samples the CPU seconds of named processes every 100 ms, so a phase's share can be read afterwards between two
/// moments the measured consumer reported (interpolated between the samples around each).
/// </summary>
internal sealed class CpuSampler : IAsyncDisposable
{
    readonly Dictionary<string, Func<double?>> _processes = new(StringComparer.Ordinal);
    readonly List<(DateTimeOffset At, Dictionary<string, double> Seconds)> _samples = [];
    readonly CancellationTokenSource _stop = new();
    readonly TimeProvider _time;
    Task? _loop;

    public CpuSampler(TimeProvider time) => _time = time;

    /// <summary>Adds a process to sample; <paramref name="seconds"/> reads its CPU seconds (null when gone).</summary>
    public void Watch(string name, Func<double?> seconds)
    {
        lock (_samples)
        {
            _processes[name] = seconds;
        }
    }

    public void Start() => _loop = Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100), _time);
        do
        {
            Sample();
        }
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
    });

    void Sample()
    {
        lock (_samples)
        {
            var at = _time.GetUtcNow();
            var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, read) in _processes)
            {
                try
                {
                    if (read() is { } s)
                    {
                        seconds[name] = s;
                    }
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or FormatException)
                {
                    // Gone between the listing and the reading: not sampled this time.
                }
            }

            _samples.Add((at, seconds));
        }
    }

    /// <summary>CPU seconds the process used between the two moments; null if it was not sampled across them.</summary>
    public double? Between(string name, DateTimeOffset from, DateTimeOffset to)
    {
        lock (_samples)
        {
            return At(name, to) - At(name, from);
        }
    }

    /// <summary>A machine-wide counter's seconds between the moments, as a share of all the cores' time.</summary>
    public double Share(string name, DateTimeOffset from, DateTimeOffset to) =>
        (Between(name, from, to) ?? double.NaN) / ((to - from).TotalSeconds * Environment.ProcessorCount);

    double? At(string name, DateTimeOffset moment)
    {
        (DateTimeOffset At, double S)? before = null;
        foreach (var (at, seconds) in _samples)
        {
            if (!seconds.TryGetValue(name, out var s))
            {
                continue;
            }

            if (at >= moment)
            {
                if (before is not { } b)
                {
                    return s;
                }

                var span = (at - b.At).TotalSeconds;
                return span <= 0 ? s : b.S + ((s - b.S) * (moment - b.At).TotalSeconds / span);
            }

            before = (at, s);
        }

        return before?.S;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            if (_loop is not null)
            {
                await _loop.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        Sample();
        _stop.Dispose();
    }
}
