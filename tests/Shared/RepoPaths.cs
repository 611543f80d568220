namespace IntegrationGateway.Testing;

/// <summary>Paths in the checkout, for tests of every tier. Compiled into each test project (linked file).</summary>
internal static class RepoPaths
{
    /// <summary>The checkout's root: the folder holding IntegrationGateway.sln, found upwards from the test binary.</summary>
    public static string Root { get; } = FindRoot();

    public static string Agreements => Path.Combine(Root, "deploy", "config", "agreements");

    public static string Controllers => Path.Combine(Root, "deploy", "config", "controllers");

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
