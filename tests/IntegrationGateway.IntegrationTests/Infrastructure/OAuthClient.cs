namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>A recipient that wants OAuth2 client credentials: the client the simulator knows, and the same client in the gateway's settings.</summary>
internal sealed class OAuthClient(string recipient)
{
    public string ClientId { get; } = $"gateway-{recipient}";

    public string Secret { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    public IEnumerable<KeyValuePair<string, string?>> SimulatorSettings =>
    [
        new($"Recipients:{recipient}:OAuthClientId", ClientId),
        new($"Recipients:{recipient}:OAuthClientSecret", Secret),
    ];

    public void AddTo(IDictionary<string, string?> gatewaySettings, TestBed bed)
    {
        gatewaySettings[$"Recipients:{recipient}:OAuth:TokenUrl"] = new Uri(bed.SimulatorUrl, "oauth/token").ToString();
        gatewaySettings[$"Recipients:{recipient}:OAuth:ClientId"] = ClientId;
        gatewaySettings[$"Recipients:{recipient}:OAuth:ClientSecret"] = Secret;
    }
}
