using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using TokenClient.Tests.TestSupport;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace TokenClient.Tests.Conformance;

/// <summary>
/// A real OAuth 2.0 authorization server (OpenIddict, in degraded mode: no database) on 127.0.0.1,
/// for the conformance suite. It checks the client's secret and the user's password itself, since
/// degraded mode does not, and records which grants it served.
/// </summary>
internal sealed class OpenIddictServer : IAsyncDisposable
{
    public const string ClientId = "conformance-client";
    public const string ClientSecret = "conformance secret+/=:é";
    public const string Username = "sam@conformance.test";
    public const string Password = "correct horse";

    // OpenIddict's ephemeral keys are RSA-4096 and take seconds to make: one smaller key serves every server of the run.
    private static readonly Lazy<RsaSecurityKey> s_signingKey = new(() => new RsaSecurityKey(RSA.Create(2048)));
    private static readonly Lazy<SymmetricSecurityKey> s_encryptionKey = new(() => new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)));

    private readonly WebApplication _app;

    private OpenIddictServer(WebApplication app) => _app = app;

    public Uri TokenEndpoint { get; private set; } = null!;

    /// <summary>The grant type of every token request the server accepted, in order.</summary>
    public ConcurrentQueue<string> GrantsServed { get; } = new();

    public static async Task<OpenIddictServer> StartAsync(TimeSpan accessTokenLifetime)
    {
        var builder = Loopback.CreateBuilder();
        OpenIddictServer? server = null;
        builder.Services.AddOpenIddict().AddServer(options =>
        {
            options.SetTokenEndpointUris("connect/token");
            options.AllowClientCredentialsFlow().AllowPasswordFlow().AllowRefreshTokenFlow();
            options.EnableDegradedMode();
            options.AddSigningKey(s_signingKey.Value);
            options.AddEncryptionKey(s_encryptionKey.Value);
            options.SetAccessTokenLifetime(accessTokenLifetime);
            options.UseAspNetCore().DisableTransportSecurityRequirement();
            options.AddEventHandler<ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.ClientSecret != ClientSecret)
                {
                    context.Reject(Errors.InvalidClient, "The client credentials are invalid.");
                }
                else if (context.Request.IsPasswordGrantType() && (context.Request.Username != Username || context.Request.Password != Password))
                {
                    context.Reject(Errors.InvalidGrant, "The user name or password is invalid.");
                }

                return default;
            }));
            options.AddEventHandler<HandleTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                var subject = context.Request.IsClientCredentialsGrantType() ? ClientId
                    : context.Request.IsPasswordGrantType() ? Username
                    : context.Principal?.GetClaim(Claims.Subject) ?? "unknown";
                var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
                identity.SetClaim(Claims.Subject, subject);
                identity.SetDestinations(static _ => [Destinations.AccessToken]);
                var principal = new ClaimsPrincipal(identity);
                if (!context.Request.IsClientCredentialsGrantType())
                {
                    principal.SetScopes(Scopes.OfflineAccess); // a refresh token comes with the password and refresh grants
                }

                server!.GrantsServed.Enqueue(context.Request.GrantType!);
                context.SignIn(principal);
                return default;
            }));
        });

        var app = builder.Build();
        app.Use(ReencodeMultipartFormAsync);
        app.UseAuthentication();
        server = new OpenIddictServer(app);
        var address = await Loopback.StartAsync(app);

        // OpenIddict builds its options on first use: build them now so that a mistake surfaces here.
        _ = app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        server.TokenEndpoint = new Uri(address, "/connect/token");
        return server;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    // OpenIddict reads only application/x-www-form-urlencoded; Wokelo's server, like many, also takes
    // the multipart form-data its documentation sends. Re-encode the same fields before OpenIddict reads them.
    private static async Task ReencodeMultipartFormAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true)
        {
            var form = await context.Request.ReadFormAsync();
            var encoded = await new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Key, f.Value.ToString()))).ReadAsByteArrayAsync();
            context.Request.Body = new MemoryStream(encoded);
            context.Request.ContentType = "application/x-www-form-urlencoded";
            context.Request.ContentLength = encoded.Length;
            context.Features.Set<IFormFeature>(new FormFeature(context.Request));
        }

        await next(context);
    }
}
