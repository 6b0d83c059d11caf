using System.Security.Cryptography.X509Certificates;

namespace TokenClient;

/// <summary>The client's certificate with <see cref="ClientAuthentication.Tls"/> (RFC 8705): a file, or a certificate given in code.</summary>
public sealed class ClientCertificateOptions
{
    /// <summary>A PKCS#12 file (<c>.pfx</c>, <c>.p12</c>), or a PEM file with the certificate and its private key.</summary>
    public string? Path { get; set; }

    /// <summary>The password of the PKCS#12 file, or of the PEM file's encrypted key.</summary>
    [System.Diagnostics.DebuggerBrowsable(System.Diagnostics.DebuggerBrowsableState.Never)]
    public string? Password { get; set; }

    /// <summary>In code only: the certificate, with its private key. The caller keeps and disposes it.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Whether a certificate is configured, by either way.</summary>
    internal bool IsSet => !string.IsNullOrEmpty(Path) || Certificate is not null;

    /// <summary>Describes the certificate without its password.</summary>
    public override string ToString() =>
        Path is not null ? $"client certificate from '{Path}'" : Certificate is not null ? $"client certificate {Certificate.Thumbprint}" : "no client certificate";
}
