using IntegrationGateway.AgencySimulator;

await SimulatorApp.Create(args).RunAsync();
