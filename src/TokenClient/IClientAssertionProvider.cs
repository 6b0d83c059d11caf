namespace TokenClient;

/// <summary>
/// Makes the client assertions of a client that uses <see cref="ClientAuthentication.PrivateKeyJwt"/> where the private key
/// is not in the process: a key vault, an HSM. Register one for a client with
/// <c>AddTokenClient(...).UseClientAssertionProvider(...)</c>; it is asked once per token request (each retry included),
/// and must return a new signed JWT each time (RFC 7523 section 3: <c>iss</c> and <c>sub</c> the client id, <c>aud</c>
/// <see cref="ClientAssertionContext.Audience"/>, a unique <c>jti</c>, a short <c>exp</c>).
/// </summary>
public interface IClientAssertionProvider
{
    /// <summary>Returns a new signed client assertion (a compact JWT).</summary>
    ValueTask<string> CreateAssertionAsync(ClientAssertionContext context, CancellationToken cancellationToken);
}

/// <summary>What one client assertion is for.</summary>
public sealed class ClientAssertionContext
{
    internal ClientAssertionContext(string clientName, string clientId, string audience, string? tenant)
    {
        ClientName = clientName;
        ClientId = clientId;
        Audience = audience;
        Tenant = tenant;
    }

    /// <summary>The configured token client.</summary>
    public string ClientName { get; }

    /// <summary>The client id: the assertion's <c>iss</c> and <c>sub</c>.</summary>
    public string ClientId { get; }

    /// <summary>The assertion's <c>aud</c>: the token endpoint's URL.</summary>
    public string Audience { get; }

    /// <summary>The tenant the token is for, if any.</summary>
    public string? Tenant { get; }
}
