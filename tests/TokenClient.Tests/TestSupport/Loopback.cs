using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TokenClient.Tests.TestSupport;

/// <summary>Kestrel servers for tests: bound to 127.0.0.1 on a port the system picks, and read back.</summary>
internal static class Loopback
{
    public static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        return builder;
    }

    /// <summary>Starts the app on 127.0.0.1:0 and returns the address it got.</summary>
    public static async Task<Uri> StartAsync(WebApplication app)
    {
        app.Urls.Add("http://127.0.0.1:0");
        await app.StartAsync();
        return new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }
}
