using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TokenClient.Tests.TestSupport;

/// <summary>
/// A real token endpoint (client credentials, Basic or Body) and a protected API on Kestrel,
/// bound to 127.0.0.1 on a port the system picks.
/// </summary>
internal sealed class LoopbackTokenServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, bool> _valid = new();
    private int _issued;

    private LoopbackTokenServer(WebApplication app) => _app = app;

    public required string ClientId { get; init; }

    public required string ClientSecret { get; init; }

    public Uri BaseAddress { get; private set; } = null!;

    public Uri TokenEndpoint => new(BaseAddress, "/oauth/token");

    public int TokensIssued => Volatile.Read(ref _issued);

    public int ExpiresIn { get; set; } = 3600;

    public static async Task<LoopbackTokenServer> StartAsync(string clientId, string clientSecret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var server = new LoopbackTokenServer(app) { ClientId = clientId, ClientSecret = clientSecret };
        app.MapPost("/oauth/token", (Delegate)server.IssueAsync);
        app.MapGet("/api/hello", (HttpContext context) =>
            server.IsValid(context.Request.Headers.Authorization.ToString()) ? Results.Text("hello") : Results.Unauthorized());
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return server;
    }

    /// <summary>Makes every token issued so far invalid, as a server-side revocation would.</summary>
    public void RevokeAll() => _valid.Clear();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private bool IsValid(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.Ordinal) && _valid.ContainsKey(authorization["Bearer ".Length..]);

    private async Task<IResult> IssueAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var (id, secret) = Credentials(context.Request, form);
        if (form["grant_type"] != "client_credentials")
        {
            return Results.Json(new Dictionary<string, string> { ["error"] = "unsupported_grant_type" }, statusCode: 400);
        }

        if (id != ClientId || secret != ClientSecret)
        {
            return Results.Json(new Dictionary<string, string> { ["error"] = "invalid_client", ["error_description"] = "Client authentication failed." }, statusCode: 401);
        }

        var token = $"loopback-{Interlocked.Increment(ref _issued)}-{Guid.NewGuid():N}";
        _valid[token] = true;
        return Results.Json(new Dictionary<string, object> { ["access_token"] = token, ["token_type"] = "Bearer", ["expires_in"] = ExpiresIn });
    }

    private static (string? Id, string? Secret) Credentials(HttpRequest request, IFormCollection form)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return (form["client_id"], form["client_secret"]);
        }

        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        return (Decode(pair[..colon]), Decode(pair[(colon + 1)..]));

        static string Decode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
    }
}
