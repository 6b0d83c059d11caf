// A worker service that calls an API every few seconds through AddTokenHandler, configured from
// appsettings.json, with TokenClient's health check and OpenTelemetry's console exporters. With
// LocalServer:Enabled (the default here), it starts the quickstart's token server and API on 127.0.0.1
// and points the client at them, so it runs offline.
//
//   dotnet run --project samples/WorkerService                      # until Ctrl+C
//   dotnet run --project samples/WorkerService -- --Orders:Calls=4  # four calls, then it stops
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Quickstart;
using WorkerService;

// appsettings.json is read beside the program, wherever it is started from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });

await using var local = builder.Configuration.GetValue<bool>("LocalServer:Enabled")
    ? await LocalServer.StartAsync(builder.Configuration.GetValue<TimeSpan>("LocalServer:TokenLifetime"), LocalServer.DefaultClientSecret)
    : null;
if (local is not null)
{
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["TokenClients:orders:TokenEndpoint"] = local.TokenEndpoint("Generic").ToString(),
        ["TokenClients:orders:ClientSecret"] = LocalServer.DefaultClientSecret,
        ["Orders:BaseAddress"] = local.BaseAddress.ToString(),
    });
}

// Every child of TokenClients is a client; its handler is on the typed client of the API.
builder.Services.AddTokenClients(builder.Configuration.GetSection("TokenClients"));
builder.Services.Configure<OrdersOptions>(builder.Configuration.GetSection("Orders"));
builder.Services.AddHttpClient<OrdersApi>((sp, c) => c.BaseAddress = sp.GetRequiredService<IOptions<OrdersOptions>>().Value.BaseAddress)
    .AddTokenHandler("orders");
builder.Services.AddHostedService<OrdersWorker>();

// Healthy while a valid token is held, Degraded while its renewal fails, Unhealthy with none.
builder.Services.AddTokenClientHealthChecks();

// TokenClient's meter and activity source, by name, to the console.
builder.Services.AddOpenTelemetry()
    .WithMetrics(metrics => metrics
        .AddMeter("TokenClient")
        .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 5000))
    .WithTracing(tracing => tracing
        .AddSource("TokenClient")
        .AddConsoleExporter());

using var host = builder.Build();
await host.RunAsync();
return OrdersWorker.Failures == 0 && OrdersWorker.Successes > 0 ? 0 : 1;
