namespace TokenClient.Tests.TestSupport;

/// <summary>The repository the tests run from, for the tests that read its files (README, PublicAPI).</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TokenClient.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (TokenClient.sln) is not above " + AppContext.BaseDirectory);
    }
}
