using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Quickstart;

/// <summary>
/// Stands in for the providers: one token endpoint per provider, each speaking that provider's wire
/// format as its documentation gives it and refusing anything else, and a protected API. It runs
/// on 127.0.0.1 with a port the system picks; tokens live <see cref="TokenLifetime"/>.
/// </summary>
public sealed class LocalServer : IAsyncDisposable
{
    public const string ClientId = "quickstart-client";
    public const string DefaultClientSecret = "quickstart-secret";
    public const string WokeloUsername = "sam@abconsulting.com";
    public const string WokeloPassword = "quickstart-password";
    public const string LoneWolfAudience = "https://api.lwolf.com";

    private static readonly string[] s_wllAudiences = ["wlloyalty.net", "staging.wlloyalty.net", "production.wlloyalty.net"];

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _valid = new();
    private readonly ConcurrentDictionary<string, bool> _refreshTokens = new();
    private int _issued;

    private LocalServer(WebApplication app) => _app = app;

    /// <summary>The token endpoint of each provider, relative to <see cref="BaseAddress"/>.</summary>
    public static IReadOnlyDictionary<string, string> TokenPaths { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Generic"] = "/generic/oauth/token",
        ["LoneWolf"] = "/lonewolf/oauth/token",
        ["Wll"] = "/wll/oauth/token",
        ["Apimw"] = "/apimw/v1/auth/token",
        ["Login3"] = "/login3/oauth/token",
        ["Wokelo"] = "/wokelo/auth/token/",
    };

    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>The secret every token endpoint expects with <see cref="ClientId"/>.</summary>
    public string ClientSecret { get; init; } = DefaultClientSecret;

    public Uri BaseAddress { get; private set; } = null!;

    public int TokensIssued => Volatile.Read(ref _issued);

    /// <summary>What each token request carried and got, in plain words, for the story.</summary>
    public ConcurrentQueue<string> TokenLog { get; } = new();

    /// <summary>What the API answered, in order.</summary>
    public ConcurrentQueue<string> ApiLog { get; } = new();

    public static async Task<LocalServer> StartAsync(TimeSpan? tokenLifetime = null, string clientSecret = DefaultClientSecret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var server = new LocalServer(app) { TokenLifetime = tokenLifetime ?? TimeSpan.FromSeconds(4), ClientSecret = clientSecret };
        app.MapPost(TokenPaths["Generic"], (Delegate)server.GenericAsync);
        app.MapPost(TokenPaths["LoneWolf"], (Delegate)server.LoneWolfAsync);
        app.MapPost(TokenPaths["Wll"], (Delegate)server.WllAsync);
        app.MapPost(TokenPaths["Apimw"], (Delegate)server.ApimwAsync);
        app.MapPost(TokenPaths["Login3"], (Delegate)server.Login3Async);
        app.MapPost(TokenPaths["Wokelo"], (Delegate)server.WokeloAsync);
        app.MapGet("/api/{provider}/greeting", server.Greet);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return server;
    }

    public Uri TokenEndpoint(string provider) => new(BaseAddress, TokenPaths[provider]);

    /// <summary>Revokes every token issued so far, as a provider does when a key rotates.</summary>
    public void RevokeAll() => _valid.Clear();

    /// <summary>Makes every refresh token issued so far invalid.</summary>
    public void RevokeRefreshTokens() => _refreshTokens.Clear();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    // RFC 6749 4.4: form-encoded, credentials in HTTP Basic (form-urlencoded first) or in the body.
    private async Task<IResult> GenericAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return OAuthError(400, "invalid_request", "expected application/x-www-form-urlencoded");
        }

        var form = await context.Request.ReadFormAsync();
        var (id, secret) = BasicCredentials(context.Request) ?? (form["client_id"].ToString(), form["client_secret"].ToString());
        return form["grant_type"] != "client_credentials" ? OAuthError(400, "unsupported_grant_type", null)
            : id != ClientId || secret != ClientSecret ? OAuthError(401, "invalid_client", "Client authentication failed.")
            : Issue("Generic", "a form with HTTP Basic credentials");
    }

    private async Task<IResult> LoneWolfAsync(HttpContext context)
    {
        var body = await ReadJsonAsync(context, ["grant_type", "client_id", "client_secret", "audience"], ["lwt_client_id"]);
        if (body is null)
        {
            return OAuthError(400, "invalid_request", "Malformed request");
        }

        return body["grant_type"] != "client_credentials" || body["audience"] != LoneWolfAudience ? OAuthError(400, "invalid_request", "Malformed request")
            : body["client_id"] != ClientId || body["client_secret"] != ClientSecret ? OAuthError(401, "access_denied", "Invalid credentials")
            : Issue("LoneWolf", body.TryGetValue("lwt_client_id", out var tenant) ? $"JSON for customer instance {tenant}" : "JSON");
    }

    private async Task<IResult> WllAsync(HttpContext context)
    {
        var body = await ReadJsonAsync(context, ["client_id", "client_secret", "audience", "grant_type"], []);
        return body is null || body["grant_type"] != "client_credentials" ? OAuthError(400, "invalid_request", "Malformed request")
            : !s_wllAudiences.Contains(body["audience"]) ? OAuthError(403, "access_denied", $"Service not found: {body["audience"]}")
            : body["client_id"] != ClientId || body["client_secret"] != ClientSecret ? OAuthError(401, "access_denied", "Unauthorized")
            : Issue("Wll", $"JSON with audience {body["audience"]}");
    }

    // APIMW: {api_key, api_secret} and nothing else; answers in an envelope.
    private async Task<IResult> ApimwAsync(HttpContext context)
    {
        var body = await ReadJsonAsync(context, ["api_key", "api_secret"], []);
        if (body is null || body["api_key"] != ClientId || body["api_secret"] != ClientSecret)
        {
            return Results.Json(new { success = false, error = new { code = "INVALID_CREDENTIALS", message = "Invalid API Key or Secret" } }, statusCode: 401);
        }

        var (token, lifetime, refresh) = NewToken("Apimw", "JSON key and secret, answered in an envelope");
        return Results.Json(new { success = true, data = new { access_token = token, token_type = "Bearer", expires_in = lifetime, refresh_token = refresh } });
    }

    private async Task<IResult> Login3Async(HttpContext context)
    {
        if (!context.Request.HasFormContentType || context.Request.Headers.Authorization.Count > 0)
        {
            return OAuthError(400, "invalid_request", "expected the credentials in a form-encoded body");
        }

        var form = await context.Request.ReadFormAsync();
        return form["grant_type"] != "client_credentials" ? OAuthError(400, "unsupported_grant_type", null)
            : string.IsNullOrEmpty(form["audience"]) ? OAuthError(403, "access_denied", "No audience parameter was provided")
            : form["client_id"] != ClientId || form["client_secret"] != ClientSecret ? OAuthError(401, "access_denied", "Unauthorized")
            : Issue("Login3", form.ContainsKey("organization") ? $"a form for organization {form["organization"]}" : "a form");
    }

    // Wokelo: multipart form-data; the password grant, or the refresh grant with a live refresh token.
    private async Task<IResult> WokeloAsync(HttpContext context)
    {
        if (context.Request.ContentType?.StartsWith("multipart/form-data", StringComparison.Ordinal) != true)
        {
            return OAuthError(400, "invalid_request", "expected multipart/form-data");
        }

        var form = await context.Request.ReadFormAsync();
        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
        {
            return OAuthError(401, "invalid_client", "Client authentication failed");
        }

        switch (form["grant_type"].ToString())
        {
            case "password" when form["username"] == WokeloUsername && form["password"] == WokeloPassword:
                return Issue("Wokelo", "the password grant as multipart form-data");
            case "password":
                return OAuthError(400, "invalid_grant", "Invalid credentials given.");
            case "refresh_token" when _refreshTokens.TryRemove(form["refresh_token"].ToString(), out _):
                return Issue("Wokelo", "the refresh grant as multipart form-data");
            case "refresh_token":
                return OAuthError(400, "invalid_grant", "Invalid refresh token");
            default:
                return OAuthError(400, "unsupported_grant_type", null);
        }
    }

    // Lone Wolf documents 403 for an expired or invalid token on API calls; the others answer 401.
    private IResult Greet(HttpContext context, string provider)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal) && _valid.TryGetValue(header["Bearer ".Length..], out var number))
        {
            ApiLog.Enqueue($"200 for token #{number}");
            return Results.Text($"hello, holder of token #{number}");
        }

        var status = provider.Equals("LoneWolf", StringComparison.OrdinalIgnoreCase) ? 403 : 401;
        ApiLog.Enqueue(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Results.StatusCode(status);
    }

    private IResult Issue(string provider, string carried)
    {
        var (token, lifetime, refresh) = NewToken(provider, carried);
        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = token,
            ["token_type"] = "Bearer",
            ["expires_in"] = lifetime,
            ["scope"] = "read write",
            ["refresh_token"] = refresh,
        });
    }

    private (string Token, int Lifetime, string Refresh) NewToken(string provider, string carried)
    {
        var number = Interlocked.Increment(ref _issued);
        var token = $"qs-{number}-{Guid.NewGuid():N}";
        var refresh = $"rt-{number}-{Guid.NewGuid():N}";
        _valid[token] = number;
        _refreshTokens[refresh] = true;
        TokenLog.Enqueue($"{provider}: token #{number} for {carried}");
        return (token, (int)Math.Ceiling(TokenLifetime.TotalSeconds), refresh);
    }

    private static IResult OAuthError(int status, string error, string? description) =>
        Results.Json(description is null
            ? new Dictionary<string, string> { ["error"] = error }
            : new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);

    // The body's string fields, if it is a JSON object with exactly the required fields and no others but the optional ones.
    private static async Task<Dictionary<string, string>?> ReadJsonAsync(HttpContext context, string[] required, string[] optional)
    {
        if (context.Request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
        {
            return null;
        }

        try
        {
            var fields = await JsonSerializer.DeserializeAsync<Dictionary<string, string>>(context.Request.Body);
            return fields is not null && required.All(fields.ContainsKey) && fields.Keys.All(k => required.Contains(k) || optional.Contains(k))
                ? fields
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (string Id, string Secret)? BasicCredentials(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return null;
        }

        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : (Decode(pair[..colon]), Decode(pair[(colon + 1)..]));

        static string Decode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
    }
}
