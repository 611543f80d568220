namespace IntegrationGateway.IntegrationTests.Infrastructure;

internal static class RepoPaths
{
    /// <summary>The checkout's root: the folder holding IntegrationGateway.sln, found upwards from the test binary.</summary>
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "IntegrationGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"IntegrationGateway.sln not found above {AppContext.BaseDirectory}");
    }
}
