using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenClient;

/// <summary>
/// The private key that signs the client's assertions with <see cref="ClientAuthentication.PrivateKeyJwt"/>: a file
/// (<see cref="Path"/>), or a key or certificate given in code.
/// </summary>
public sealed class SigningKeyOptions
{
    /// <summary>A PEM file with the private key (PKCS#8, PKCS#1 or SEC1, encrypted with <see cref="Password"/> or not, and
    /// optionally the certificate), or a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) with the certificate and its key.</summary>
    public string? Path { get; set; }

    /// <summary>The password of the PKCS#12 file or of an encrypted PEM key.</summary>
    [System.Diagnostics.DebuggerBrowsable(System.Diagnostics.DebuggerBrowsableState.Never)]
    public string? Password { get; set; }

    /// <summary>The <c>kid</c> of the assertions' header; by default the certificate's SHA-1 thumbprint where there is a certificate.</summary>
    public string? KeyId { get; set; }

    /// <summary><c>RS256</c> (default), <c>PS256</c> (both with an RSA key of 2048 bits or more) or <c>ES256</c> (an EC P-256 key).</summary>
    public string Algorithm { get; set; } = "RS256";

    /// <summary>In code only: the private key itself (<see cref="RSA"/> or <see cref="ECDsa"/>). The caller keeps and disposes it.</summary>
    public AsymmetricAlgorithm? Key { get; set; }

    /// <summary>In code only: a certificate with its private key. Its thumbprint is the default <see cref="KeyId"/> and the <c>x5t</c>.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Whether a key is configured, by any of the three ways.</summary>
    internal bool IsSet => !string.IsNullOrEmpty(Path) || Key is not null || Certificate is not null;

    /// <summary>Describes the key without its password.</summary>
    public override string ToString() =>
        Path is not null ? $"{Algorithm} key from '{Path}'" : Certificate is not null ? $"{Algorithm} key of certificate {Certificate.Thumbprint}" : Key is not null ? $"{Algorithm} key given in code" : "no signing key";
}
