using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
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

    /// <summary>Every client assertion received, valid or not, in order.</summary>
    public ConcurrentQueue<string> AssertionsReceived { get; } = new();

    /// <summary>The headers of the assertions the server accepted.</summary>
    public ConcurrentQueue<JsonWebToken> AssertionsAccepted { get; } = new();

    private readonly ConcurrentDictionary<string, bool> _seenJtis = new();

    /// <param name="accessTokenLifetime">The lifetime of the tokens issued.</param>
    /// <param name="assertionKey">With a key, the client authenticates with private_key_jwt (RFC 7523) signed by it, not a secret:
    /// the assertion is checked by Microsoft.IdentityModel (signature, iss and sub, aud the token endpoint, lifetime), and a
    /// <c>jti</c> seen before is refused as a replay.</param>
    public static async Task<OpenIddictServer> StartAsync(TimeSpan accessTokenLifetime, SecurityKey? assertionKey = null)
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
        if (assertionKey is not null)
        {
            app.Use((context, next) => server!.CheckAssertionAsync(context, next, assertionKey));
        }

        app.UseAuthentication();
        server = new OpenIddictServer(app);
        var address = await Loopback.StartAsync(app);

        // OpenIddict builds its options on first use: build them now so that a mistake surfaces here.
        _ = app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        server.TokenEndpoint = new Uri(address, "/connect/token");
        return server;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    // private_key_jwt in front of OpenIddict (whose degraded mode has no client store to hold the client's public key): the
    // assertion is checked here, and a valid one is handed on to OpenIddict as the client's credentials; an invalid one
    // is answered with invalid_client, as RFC 7523 section 3.2 says.
    private async Task CheckAssertionAsync(HttpContext context, RequestDelegate next, SecurityKey key)
    {
        if (!context.Request.HasFormContentType)
        {
            await next(context);
            return;
        }

        var form = await context.Request.ReadFormAsync();
        if (await AssertionProblemAsync(form["client_assertion_type"].ToString(), form["client_assertion"].ToString(), form["client_id"].ToString(), key) is { } problem)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = Errors.InvalidClient, ["error_description"] = problem });
            return;
        }

        var fields = form.Where(f => !f.Key.StartsWith("client_assertion", StringComparison.Ordinal)).Select(f => KeyValuePair.Create(f.Key, f.Value.ToString()))
            .Append(KeyValuePair.Create("client_secret", ClientSecret));
        var encoded = await new FormUrlEncodedContent(fields).ReadAsByteArrayAsync();
        context.Request.Body = new MemoryStream(encoded);
        context.Request.ContentLength = encoded.Length;
        context.Features.Set<IFormFeature>(new FormFeature(context.Request));
        await next(context);
    }

    // RFC 7523 section 3, checked by Microsoft.IdentityModel rather than by code of ours.
    private async Task<string?> AssertionProblemAsync(string type, string assertion, string clientId, SecurityKey key)
    {
        if (type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || string.IsNullOrEmpty(assertion))
        {
            return "A client assertion is required.";
        }

        AssertionsReceived.Enqueue(assertion);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = ClientId,
            ValidAudience = TokenEndpoint.AbsoluteUri,
            IssuerSigningKey = key,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            ValidAlgorithms = ["RS256", "PS256", "ES256"],
        });
        if (!result.IsValid)
        {
            return $"The client assertion is invalid: {result.Exception?.GetType().Name}.";
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        if (jwt.Subject != ClientId || clientId.Length > 0 && clientId != ClientId)
        {
            return "The client assertion's subject is not the client.";
        }

        if (string.IsNullOrEmpty(jwt.Id) || !_seenJtis.TryAdd(jwt.Id, true))
        {
            return "The client assertion was used before.";
        }

        AssertionsAccepted.Enqueue(jwt);
        return null;
    }

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
