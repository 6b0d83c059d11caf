using System.Net;

namespace TokenClient;

/// <summary>
/// A token endpoint's wire format that TokenClient does not know, added without a fork: derive from this class, register
/// it with <c>services.AddTokenProvider(...)</c>, and name it in a client's <c>Provider</c> key. The client gets the same
/// cache, handler, retries, timeouts, telemetry and secret hygiene as with the built-in providers: this class only builds
/// the request and reads the answer.
/// </summary>
public abstract class TokenProvider
{
    /// <summary>Creates the provider.</summary>
    /// <param name="name">What the <c>Provider</c> key says to choose it; not one of the built-in names.</param>
    protected TokenProvider(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>The name the <c>Provider</c> key takes.</summary>
    public string Name { get; }

    /// <summary>The endpoint used when <see cref="TokenClientOptions.TokenEndpoint"/> is not set; null where the user must give one.</summary>
    public virtual Uri? DefaultEndpoint(TokenClientOptions options) => null;

    /// <summary>The provider's own configuration rules, one message per problem naming the key; checked at start-up.</summary>
    public virtual IEnumerable<string> Validate(TokenClientOptions options) => [];

    /// <summary>Whether an API's answer with this status means that the token was refused (the handler then renews it and resends once).</summary>
    public virtual bool IsTokenRejected(HttpStatusCode status) => status == HttpStatusCode.Unauthorized;

    /// <summary>Builds one token request. Called for every attempt, retries included.</summary>
    public abstract HttpRequestMessage CreateRequest(TokenProviderRequest request);

    /// <summary>
    /// Reads the token endpoint's answer. By default RFC 6749's (section 5.1 success, 5.2 error): <see cref="TokenProviderAnswer.ReadOAuth"/>.
    /// Throw <see cref="TokenProviderAnswer.Failure"/> for an error the provider reports its own way.
    /// </summary>
    public virtual TokenProviderResponse ReadResponse(TokenProviderAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return answer.ReadOAuth();
    }
}

/// <summary>What one token request is for.</summary>
public sealed class TokenProviderRequest
{
    internal TokenProviderRequest(string clientName, Uri endpoint, TokenClientOptions options, string? tenant, TokenRequestParameters? parameters = null)
    {
        Parameters = parameters;
        ClientName = clientName;
        Endpoint = endpoint;
        Options = options;
        Tenant = tenant;
    }

    /// <summary>The configured token client.</summary>
    public string ClientName { get; }

    /// <summary>Where to send the request: <see cref="TokenClientOptions.TokenEndpoint"/>, else the provider's default.</summary>
    public Uri Endpoint { get; }

    /// <summary>The client's options: credentials, scope, audience, <see cref="TokenClientOptions.Parameters"/> and the rest.</summary>
    public TokenClientOptions Options { get; }

    /// <summary>The tenant the token is for (the caller's, else the configured <see cref="TokenClientOptions.Tenant"/>), if any.</summary>
    public string? Tenant { get; }

    /// <summary>
    /// What the caller asked for beyond <see cref="Options"/> (scope, resources, audience, fields), if anything: each value
    /// given takes the place of the configured one. Null for the configured token.
    /// </summary>
    public TokenRequestParameters? Parameters { get; }
}

/// <summary>A successful answer, as the provider read it.</summary>
/// <param name="AccessToken">The token: a Bearer token, checked as the built-in providers' are.</param>
/// <param name="Lifetime">How long it lives, if the answer says; else <see cref="TokenClientOptions.DefaultLifetime"/>, or the JWT's <c>exp</c>.</param>
/// <param name="Scope">The granted scope, if the answer says.</param>
public sealed record TokenProviderResponse(string AccessToken, TimeSpan? Lifetime = null, string? Scope = null)
{
    /// <summary>Describes the response without its token.</summary>
    public override string ToString() => $"token response, lifetime {Lifetime?.ToString() ?? "unknown"}";
}
