using IntegrationGateway.Gateway.Cli;

return await GatewayCli.InvokeAsync(args);
