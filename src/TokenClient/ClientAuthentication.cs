namespace TokenClient;

/// <summary>How the client proves who it is to the token endpoint.</summary>
public enum ClientAuthentication
{
    /// <summary>HTTP Basic with the form-urlencoded id and secret (RFC 6749 section 2.3.1); every server must accept it.</summary>
    Basic = 0,

    /// <summary><c>client_id</c> and <c>client_secret</c> as form fields in the request body.</summary>
    Body = 1,

    /// <summary>
    /// <c>private_key_jwt</c> (RFC 7523 section 2.2, OpenID Connect Core section 9): no secret is sent; each token request
    /// carries a fresh JWT signed with the client's private key (<see cref="TokenClientOptions.SigningKey"/>, or an
    /// <see cref="IClientAssertionProvider"/> registered for the client).
    /// </summary>
    PrivateKeyJwt = 2,

    /// <summary>
    /// Mutual TLS (RFC 8705): the client presents its certificate (<see cref="TokenClientOptions.ClientCertificate"/>) in the
    /// TLS handshake with the token endpoint, and sends only its <c>client_id</c>. The same certificate is presented to the
    /// APIs called through the token handler, for servers that bind the token to it.
    /// </summary>
    Tls = 3,
}
