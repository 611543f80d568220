namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// The rules the gateway runs on, read together because they refer to each other: the agreements, and the controllers
/// that are party to them (<see cref="ControllerRegistry"/>). What the gateway checks at start and <c>policy lint</c> reports.
/// </summary>
public sealed record GatewayPolicy(IReadOnlyList<Agreement> Agreements, ControllerRegistry Controllers)
{
    public static (GatewayPolicy Policy, IReadOnlyList<AgreementError> Errors) LoadAndLint(string agreementsDirectory, string controllersDirectory, EventCatalogue catalogue)
    {
        var (agreements, errors) = AgreementLinter.LoadAndLint(agreementsDirectory, catalogue);
        var (controllers, controllerErrors) = ControllerLoader.LoadDirectory(controllersDirectory);
        var all = errors.Concat(controllerErrors).Concat(ControllerLoader.Lint(controllers, agreements)).ToList();
        return (new GatewayPolicy(agreements, new ControllerRegistry(controllers)), all);
    }
}
