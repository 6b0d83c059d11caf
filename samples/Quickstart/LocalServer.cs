using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Quickstart;

/// <summary>
/// Stands in for a provider: a client-credentials token endpoint and a protected API, on
/// 127.0.0.1 with a port the system picks. Tokens live <see cref="TokenLifetime"/>.
/// </summary>
internal sealed class LocalServer : IAsyncDisposable
{
    public const string ClientId = "quickstart-client";
    public const string ClientSecret = "quickstart-secret";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _valid = new();
    private int _issued;

    private LocalServer(WebApplication app) => _app = app;

    public static TimeSpan TokenLifetime { get; } = TimeSpan.FromSeconds(4);

    public Uri BaseAddress { get; private set; } = null!;

    public int TokensIssued => Volatile.Read(ref _issued);

    public ConcurrentQueue<string> ApiLog { get; } = new();

    public static async Task<LocalServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var server = new LocalServer(app);
        app.MapPost("/oauth/token", (Delegate)server.IssueAsync);
        app.MapGet("/api/greeting", server.Greet);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return server;
    }

    /// <summary>Revokes every token issued so far, as a provider does when a key rotates.</summary>
    public void RevokeAll() => _valid.Clear();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task<IResult> IssueAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var basic = context.Request.Headers.Authorization.ToString();
        var expected = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
        if (form["grant_type"] != "client_credentials" || basic != expected)
        {
            return Results.Json(new Dictionary<string, string> { ["error"] = "invalid_client" }, statusCode: 401);
        }

        var number = Interlocked.Increment(ref _issued);
        var token = $"qs-{number}-{Guid.NewGuid():N}";
        _valid[token] = number;
        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = token,
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)TokenLifetime.TotalSeconds,
        });
    }

    private IResult Greet(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal) && _valid.TryGetValue(header["Bearer ".Length..], out var number))
        {
            ApiLog.Enqueue($"200 for token #{number}");
            return Results.Text($"hello, holder of token #{number}");
        }

        ApiLog.Enqueue("401");
        return Results.Unauthorized();
    }
}
