using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// Publishes each event as the broker user of the controller it is from, as the controllers' own systems do (the demo
/// and <c>events publish</c>): one connection per broker user, opened when first needed, the password read from
/// <c>Publishers:SecretsDirectory/&lt;user&gt;.password</c> (<see cref="PasswordsIn(IConfiguration)"/>). Or, with <paramref name="asUser"/>,
/// every event as that one user, to try what the intake does with an event of another controller.
/// </summary>
public sealed class ControllerPublishers(RabbitMqOptions broker, IntakeOptions intake, ControllerRegistry controllers, Func<string, string> passwordOf, string? asUser = null) : IAsyncDisposable
{
    public const string SecretsDirectoryKey = "Publishers:SecretsDirectory";

    readonly Dictionary<string, IntakePublisher> _byUser = new(StringComparer.Ordinal);

    /// <summary>The broker users that published so far, with how many events each.</summary>
    public Dictionary<string, int> Published { get; } = new(StringComparer.Ordinal);

    public async Task PublishAsync(string eventType, ReadOnlyMemory<byte> json, Guid? eventId, string institutionId, CancellationToken cancellationToken)
    {
        var user = asUser ?? controllers.ByInstitution(institutionId)?.BrokerUsers[0]
            ?? throw new IntakePublishException($"no controller is known by the institution id of this {eventType} (see deploy/config/controllers); publish it with --as <broker user> to see the intake refuse it.", null);
        if (!_byUser.TryGetValue(user, out var publisher))
        {
            publisher = await IntakePublisher.ConnectAsync(broker.As(user, passwordOf(user)), intake, cancellationToken).ConfigureAwait(false);
            _byUser[user] = publisher;
        }

        await publisher.PublishAsync(eventType, json, eventId, cancellationToken).ConfigureAwait(false);
        Published[user] = Published.GetValueOrDefault(user) + 1;
    }

    /// <summary>Each publisher's password from the folder the configuration names (default: deploy/local's <c>.local/secrets/broker</c>).</summary>
    public static Func<string, string> PasswordsIn(IConfiguration configuration) => PasswordsIn(configuration[SecretsDirectoryKey] ?? ".local/secrets/broker");

    /// <summary>Each publisher's password from its file in <paramref name="directory"/>; a message names the file, never the content.</summary>
    public static Func<string, string> PasswordsIn(string directory) => user =>
    {
        var file = Path.Combine(directory, user + ".password");
        return File.Exists(file)
            ? File.ReadAllText(file).Trim()
            : throw new IntakePublishException($"no password for broker user '{user}' in {directory} (deploy/local/env.sh makes one per controller publisher; set {SecretsDirectoryKey})", null);
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var publisher in _byUser.Values)
        {
            await publisher.DisposeAsync().ConfigureAwait(false);
        }
    }
}
