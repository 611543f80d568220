using System.Globalization;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// The services deploy/local/up.sh runs hold the intake's messages and the ledger: another local user (here the
/// unprivileged <c>nobody</c>) reaches neither. Each attack is paired with the same step by the service's own user,
/// which must work: a refusal then means the lock, not a tool that cannot run.
/// </summary>
[Trait("Tier", "Security")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // deploy/local runs Debian's packages
public sealed class LocalServicesLockDownTests(ITestOutputHelper output)
{
    const string Unprivileged = "nobody";

    [Fact]
    public async Task AnotherLocalUser_GetsNoPostgreSqlSession_NotOverTheSocketNorOverLoopback()
    {
        await TestServices.RequireDatabaseAsync();
        var connection = new NpgsqlConnectionStringBuilder(TestServices.DatabaseConnectionString);
        var port = connection.Port.ToString(CultureInfo.InvariantCulture);
        // The server names its socket folder on the fifth line of postmaster.pid.
        var pidFile = Path.Combine(StateDirectory(), "postgres", "data", "postmaster.pid");
        Assert.True(File.Exists(pidFile), $"{pidFile} does not exist: was PostgreSQL started by deploy/local/up.sh?");
        var sockets = File.ReadAllLines(pidFile)[4].Trim();
        if (!IsRoot)
        {
            // Without root there is no other user to try as (the services run as this one): what keeps others out is checked.
            var hba = File.ReadAllLines(Path.Combine(StateDirectory(), "postgres", "data", "pg_hba.conf")).Where(l => !l.TrimStart().StartsWith('#'));
            output.WriteLine($"not root: socket folder {sockets} mode {File.GetUnixFileMode(sockets)}; pg_hba: {string.Join(" | ", hba)}");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(sockets));
            Assert.DoesNotContain(hba, l => l.Contains("trust", StringComparison.Ordinal));
            output.WriteLine("attack: another local user reaching PostgreSQL's socket: refused (mode 0700, no trust; as root the suite tries it as nobody)");
            return;
        }


        var psql = LocalPrograms.Postgres("psql");
        string[] Sql(string host, string user, string database) => ["-w", "-X", "-qtA", "-h", host, "-p", port, "-U", user, "-d", database, "-c", "SELECT current_user"];

        // The server's own user is let in as the superuser over the socket (peer authentication).
        var control = await AsUser("postgres", psql, Sql(sockets, "postgres", "postgres"));
        Assert.True(control.ExitCode == 0 && control.Output.Trim() == "postgres", $"the control failed: postgres over {sockets}: {control}");

        var attempts = new Dictionary<string, LocalPrograms.Result>
        {
            ["the socket, as the superuser"] = await AsUser(Unprivileged, psql, Sql(sockets, "postgres", "postgres")),
            ["the socket, as the gateway's role"] = await AsUser(Unprivileged, psql, Sql(sockets, connection.Username!, connection.Database!)),
            ["loopback, as the superuser, no password"] = await AsUser(Unprivileged, psql, Sql("127.0.0.1", "postgres", "postgres")),
            ["loopback, as the gateway's role, no password"] = await AsUser(Unprivileged, psql, Sql("127.0.0.1", connection.Username!, connection.Database!)),
            ["loopback, as the gateway's role, the password that once shipped"] = await AsUser(Unprivileged, psql, Sql("127.0.0.1", connection.Username!, connection.Database!), ("PGPASSWORD", "gateway-local")),
        };
        foreach (var (attempt, result) in attempts)
        {
            output.WriteLine($"{Unprivileged}, {attempt}: {result}");
        }

        Assert.All(attempts, a => Assert.True(a.Value.ExitCode != 0, $"{Unprivileged} got a session over {a.Key}: {a.Value}"));
        foreach (var attempt in attempts.Keys)
        {
            output.WriteLine($"attack: another local user's PostgreSQL session over {attempt}: refused");
        }
    }

    [Fact]
    public async Task AnotherLocalUser_CannotListOrReadTheBrokersMessageStore()
    {
        TestServices.RequireBroker();
        var store = Path.Combine(StateDirectory(), "rabbitmq");
        Assert.True(Directory.Exists(Path.Combine(store, "mnesia")), $"no RabbitMQ state in {store}: was it started by deploy/local/up.sh?");
        if (!IsRoot)
        {
            const UnixFileMode others = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            var open = Directory.EnumerateFileSystemEntries(store, "*", SearchOption.AllDirectories).Append(store).Where(f => (File.GetUnixFileMode(f) & others) != 0).ToList();
            output.WriteLine($"not root: entries of {store} open to other users: {open.Count}");
            Assert.Empty(open);
            output.WriteLine("attack: another local user reading the broker's message store: refused (no entry open to others; as root the suite tries it as nobody)");
            return;
        }

        // The broker's user reads its files; the unprivileged user sees none of them, not even their names.
        var own = await AsUser("rabbitmq", "find", [store, "-type", "f", "-readable"]);
        var files = own.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(own.ExitCode == 0 && files.Length > 0, $"the control failed: rabbitmq finds no file of its own in {store}: {own}");

        var listing = await AsUser(Unprivileged, "find", [store, "-type", "f", "-readable"]);
        var reading = await AsUser(Unprivileged, "cat", files.Take(20));
        output.WriteLine($"{files.Length} files in {store}; {Unprivileged}, find: {listing}; cat of 20 of them: exit {reading.ExitCode}, {reading.Output.Length} characters read");
        Assert.Empty(listing.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.NotEqual(0, reading.ExitCode);
        Assert.Equal("", reading.Output);
        output.WriteLine("attack: another local user listing the broker's message store: refused\nattack: another local user reading the broker's message store: refused");
    }

    /// <summary>Where up.sh keeps the services' state (it writes the folder it chose to .local/state-dir).</summary>
    static string StateDirectory()
    {
        var file = Path.Combine(RepoPaths.Root, ".local", "state-dir");
        Assert.True(File.Exists(file), $"{file} does not exist: run deploy/local/up.sh");
        return File.ReadAllText(file).Trim();
    }

    static Task<LocalPrograms.Result> AsUser(string user, string program, IEnumerable<string> arguments, params (string Key, string Value)[] environment) =>
        LocalPrograms.RunAsync("runuser", new[] { "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin" }.Concat(environment.Select(e => $"{e.Key}={e.Value}")).Append(program).Concat(arguments));

    /// <summary>Switching to another user takes root; without it the tests check the modes that keep other users out.</summary>
    static bool IsRoot => Environment.UserName == "root";
}
