namespace IntegrationGateway.Adapters.Duo;

/// <summary>Settings of the DUO adapter, bound to <c>Recipients:Duo</c>.</summary>
public sealed class DuoOptions : HttpRecipientOptions
{
    public const string Section = "Recipients:Duo";
}
