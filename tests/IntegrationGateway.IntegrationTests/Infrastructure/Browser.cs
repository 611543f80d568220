using Microsoft.Playwright;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>Debian's Chromium driven by Playwright (no browser download), for the tests that look at the ops app as staff do.</summary>
internal static class Browser
{
    const string Chromium = "/usr/bin/chromium";

    /// <summary>Where screenshots go: <c>artifacts/screenshots</c>.</summary>
    public static string Screenshots { get; } = Path.Combine(RepoPaths.Root, "artifacts", "screenshots");

    /// <summary>A headless Chromium; fails (never skips) naming the package when it is missing.</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: the browser tests need Debian's chromium package (deploy/local/test.sh installs it).");
        }

        Directory.CreateDirectory(Screenshots);
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A full-page screenshot named <paramref name="name"/>; its file, for the test to check it holds something.</summary>
    public static async Task<FileInfo> ShootAsync(IPage page, string name)
    {
        var file = new FileInfo(Path.Combine(Screenshots, name));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file.FullName, FullPage = true });
        file.Refresh();
        return file;
    }
}
