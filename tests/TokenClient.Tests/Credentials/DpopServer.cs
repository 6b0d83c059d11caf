using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenClient.Tests.Attacks;

namespace TokenClient.Tests.Credentials;

/// <summary>
/// A token endpoint and an API on 127.0.0.1 that check every DPoP proof as RFC 9449 sections 4.3, 7.1 and 8 say: the
/// signature by the key in its own <c>jwk</c> header (checked by Microsoft.IdentityModel, not by code of ours), <c>typ</c>,
/// <c>htm</c>, <c>htu</c>, <c>iat</c>, a <c>jti</c> never seen before, the nonce each side demands, and on the API
/// <c>ath</c> and the key the token was bound to. A refused proof is answered as a server would, and recorded.
/// </summary>
internal sealed class DpopServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, bool> _jtis = new();
    private readonly ConcurrentDictionary<string, string> _boundKeys = new(); // token -> jkt
    private int _issued;
    private int _nonces;

    private DpopServer(Hostile.Server server) => Server = server;

    public Hostile.Server Server { get; }

    public Uri TokenEndpoint => Server.Url("/token");

    /// <summary>Whether the token endpoint and the API demand a nonce of their own (RFC 9449 sections 8 and 9).</summary>
    public bool TokenEndpointNonces { get; set; } = true;

    public bool ApiNonces { get; set; } = true;

    /// <summary>Whether the nonce changes on every answer, so that no proof ever carries the current one.</summary>
    public bool NewNonceEveryTime { get; set; }

    /// <summary>The token type issued: "DPoP", or "Bearer" as a server that ignores the proof.</summary>
    public string IssuedType { get; set; } = "DPoP";

    /// <summary>A nonce sent as it is, whatever it holds (a hostile server's).</summary>
    public string? ForcedNonce { get; set; }

    /// <summary>Refuses every token request, quoting the proof and the client assertion it got in its error_description (a server that echoes).</summary>
    public bool EchoProofInError { get; set; }

    public string TokenNonce { get; private set; } = "as-nonce-0";

    public string ApiNonce { get; private set; } = "rs-nonce-0";

    /// <summary>Every proof that passed, with where it came.</summary>
    public ConcurrentQueue<(string Path, JsonWebToken Proof)> Accepted { get; } = new();

    /// <summary>Every proof refused, and why.</summary>
    public ConcurrentQueue<string> Refused { get; } = new();

    public static async Task<DpopServer> StartAsync()
    {
        DpopServer? server = null;
        var hostile = await Hostile.StartAsync(app =>
        {
            app.MapPost("/token", (Delegate)((HttpContext context) => server!.TokenAsync(context)));
            app.MapMethods("/api/{**rest}", ["GET", "POST"], (Delegate)((HttpContext context) => server!.ApiAsync(context)));
        });
        server = new DpopServer(hostile);
        return server;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    /// <summary>RFC 7638's thumbprint of the proof's key: what a token is bound to (<c>cnf.jkt</c>).</summary>
    public static string Thumbprint(JsonWebToken proof) =>
        Base64UrlEncoder.Encode(new JsonWebKey(proof.GetHeaderValue<JsonElement>("jwk").GetRawText()).ComputeJwkThumbprint());

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        var proofText = context.Request.Headers["DPoP"].ToString();
        if (EchoProofInError)
        {
            var form = await context.Request.ReadFormAsync();
            return Results.Json(new { error = "invalid_dpop_proof", error_description = $"rejected proof {proofText} sent with {form["client_assertion"]}" }, statusCode: 400);
        }

        var (proof, problem) = await CheckAsync(context, proofText, accessToken: null, TokenEndpointNonces ? TokenNonce : null);
        if (problem == "use_dpop_nonce")
        {
            context.Response.Headers["DPoP-Nonce"] = TokenNonce = NextNonce("as");
            return Results.Json(new { error = "use_dpop_nonce", error_description = "Authorization server requires nonce in DPoP proof" }, statusCode: 400);
        }

        if (problem is not null)
        {
            return Results.Json(new { error = "invalid_dpop_proof", error_description = problem }, statusCode: 400);
        }

        var token = $"dpop-token-{Interlocked.Increment(ref _issued)}";
        _boundKeys[token] = Thumbprint(proof!);
        return Results.Json(new { access_token = token, token_type = IssuedType, expires_in = 3600 });
    }

    /// <summary>Where <c>/api/moved</c> sends its callers.</summary>
    public Uri? RedirectTo { get; set; }

    private async Task<IResult> ApiAsync(HttpContext context)
    {
        if (context.Request.Path == "/api/moved" && RedirectTo is { } target)
        {
            return Results.Redirect(target.AbsoluteUri);
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal) && IssuedType == "Bearer")
        {
            return context.Request.Headers.ContainsKey("DPoP") ? Refuse("a Bearer request carries a DPoP proof") : Results.Text("bearer accepted");
        }

        if (!authorization.StartsWith("DPoP ", StringComparison.Ordinal))
        {
            return Refuse($"the Authorization scheme is not DPoP: '{authorization.Split(' ')[0]}'");
        }

        var token = authorization["DPoP ".Length..];
        var (proof, problem) = await CheckAsync(context, context.Request.Headers["DPoP"].ToString(), token, ApiNonces ? ApiNonce : null);
        if (problem == "use_dpop_nonce")
        {
            context.Response.Headers["DPoP-Nonce"] = ApiNonce = NextNonce("rs");
            context.Response.Headers.WWWAuthenticate = "DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"";
            return Results.StatusCode(401);
        }

        if (problem is null && (!_boundKeys.TryGetValue(token, out var jkt) || jkt != Thumbprint(proof!)))
        {
            problem = "the proof's key is not the one the token is bound to";
        }

        return problem is null ? Results.Text($"accepted {context.Request.Method} {context.Request.Path}") : Refuse(problem);
    }

    private IResult Refuse(string problem)
    {
        Refused.Enqueue(problem);
        return Results.StatusCode(401);
    }

    private string NextNonce(string side) => ForcedNonce ?? $"{side}-nonce-{Interlocked.Increment(ref _nonces)}";

    private async Task<(JsonWebToken? Proof, string? Problem)> CheckAsync(HttpContext context, string proofText, string? accessToken, string? nonce)
    {
        if (string.IsNullOrEmpty(proofText) || context.Request.Headers["DPoP"].Count != 1)
        {
            return Problem("there is not exactly one DPoP header");
        }

        JsonWebToken unverified;
        try
        {
            unverified = new JsonWebToken(proofText);
        }
        catch (ArgumentException)
        {
            return Problem("the proof is not a JWT");
        }

        if (!unverified.TryGetHeaderValue<JsonElement>("jwk", out var jwk) || jwk.TryGetProperty("d", out _))
        {
            return Problem("the proof's jwk is missing or holds a private key");
        }

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(proofText, new TokenValidationParameters
        {
            IssuerSigningKey = new JsonWebKey(jwk.GetRawText()),
            ValidTypes = ["dpop+jwt"],
            ValidAlgorithms = ["ES256"],
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
        });
        if (!result.IsValid)
        {
            return Problem($"the proof does not verify: {result.Exception?.GetType().Name}");
        }

        var proof = (JsonWebToken)result.SecurityToken;
        var request = context.Request;
        var expectedHtu = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
        if (!proof.TryGetPayloadValue<string>("htm", out var htm) || htm != request.Method)
        {
            return Problem($"htm '{htm}' is not {request.Method}");
        }

        if (!proof.TryGetPayloadValue<string>("htu", out var htu) || htu != expectedHtu)
        {
            return Problem($"htu '{htu}' is not {expectedHtu}");
        }

        if (!proof.TryGetPayloadValue<long>("iat", out var iat) || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - iat) > 300)
        {
            return Problem("iat is missing or not now");
        }

        if (!proof.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti) || !_jtis.TryAdd(jti, true))
        {
            return Problem("jti is missing or was used before");
        }

        proof.TryGetPayloadValue<string>("ath", out var ath);
        var expectedAth = accessToken is null ? null : Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        if (ath != expectedAth)
        {
            return Problem(accessToken is null ? "a token request's proof has an ath" : "ath is not the hash of the token");
        }

        proof.TryGetPayloadValue<string>("nonce", out var sentNonce);
        if (nonce is not null && (sentNonce != nonce || NewNonceEveryTime))
        {
            return (proof, "use_dpop_nonce"); // not recorded as refused: that is how a server hands out its nonce
        }

        Accepted.Enqueue((request.Path, proof));
        return (proof, null);
    }

    private (JsonWebToken?, string?) Problem(string problem)
    {
        Refused.Enqueue(problem);
        return (null, problem);
    }
}
