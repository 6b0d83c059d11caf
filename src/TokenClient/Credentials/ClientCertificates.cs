using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Http;
using TokenClient.Http;

namespace TokenClient.Credentials;

/// <summary>Mutual TLS (RFC 8705): loads the client's certificate, and puts it on the primary handler of an HttpClient.</summary>
internal static class ClientCertificates
{
    // The primary handlers given a certificate: a handler handed out again (shared by several HttpClients or token
    // clients) is refused, so that one client's certificate never reaches another's servers.
    private static readonly ConditionalWeakTable<HttpMessageHandler, X509Certificate2> s_given = new();

    /// <summary>The certificate the options name, with its private key, or what is wrong, naming the setting.</summary>
    public static X509Certificate2 Load(ClientCertificateOptions options)
    {
        var certificate = options.Certificate ?? FromFile(options);
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"ClientCertificate ({Source(options)}) has no private key: mutual TLS needs the certificate with its key.");
        }

        return certificate;
    }

    /// <summary>Presents <paramref name="certificate"/> from the primary handler that <paramref name="builder"/> builds.</summary>
    public static void Apply(HttpMessageHandlerBuilder builder, X509Certificate2 certificate)
    {
        var handler = Redirects.Innermost(builder.PrimaryHandler);

        if (s_given.TryGetValue(handler, out var given))
        {
            if (ReferenceEquals(given, certificate))
            {
                return; // the same handler built again for the same client: it has the certificate
            }

            throw new InvalidOperationException(
                $"The HttpClient '{builder.Name}' has a primary handler that another client certificate was given to; give each HttpClient with mutual TLS a new handler per build, so that no certificate reaches another client's servers.");
        }

        try
        {
            switch (handler)
            {
                case SocketsHttpHandler sockets:
                    sockets.SslOptions.ClientCertificates ??= [];
                    if (!sockets.SslOptions.ClientCertificates.Contains(certificate))
                    {
                        sockets.SslOptions.ClientCertificates.Add(certificate);
                    }

                    break;
                case HttpClientHandler client:
                    client.ClientCertificateOptions = ClientCertificateOption.Manual;
                    if (!client.ClientCertificates.Contains(certificate))
                    {
                        client.ClientCertificates.Add(certificate);
                    }

                    break;
                default:
                    throw new NotSupportedException(
                        $"The HttpClient '{builder.Name}' has a primary handler ({handler.GetType().Name}) that TokenClient cannot give a client certificate; use SocketsHttpHandler or HttpClientHandler, or add the certificate to it yourself.");
            }

            s_given.AddOrUpdate(handler, certificate);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                $"The HttpClient '{builder.Name}' has a primary handler that has already sent requests, so TokenClient cannot give it the client certificate. Give it a new handler per build.",
                ex);
        }
    }

    private static X509Certificate2 FromFile(ClientCertificateOptions options)
    {
        if (string.IsNullOrEmpty(options.Path))
        {
            throw new InvalidOperationException("ClientCertificate:Path (or a certificate given in code) is required when ClientAuthentication is 'Tls'.");
        }

        return Read("ClientCertificate", options.Path, options.Password, forTls: true);
    }

    /// <summary>
    /// A certificate with its private key from a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) or a PEM file, or what is wrong with it,
    /// naming the <paramref name="setting"/> (SigningKey, ClientCertificate). For TLS, the key is kept where the platform's
    /// TLS stack can use it; for signing, it stays in memory (except on macOS, which has no ephemeral keys).
    /// </summary>
    public static X509Certificate2 Read(string setting, string path, string? password, bool forTls)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{setting}:Path '{path}' does not exist.");
        }

        var storage = forTls || OperatingSystem.IsMacOS() ? X509KeyStorageFlags.DefaultKeySet : X509KeyStorageFlags.EphemeralKeySet;
        try
        {
            if (IsPkcs12(path))
            {
#if NET9_0_OR_GREATER
                return X509CertificateLoader.LoadPkcs12FromFile(path, password, storage);
#else
                return new X509Certificate2(path, password, storage);
#endif
            }

            var pem = string.IsNullOrEmpty(password) ? X509Certificate2.CreateFromPemFile(path) : X509Certificate2.CreateFromEncryptedPemFile(path, password);
            if (!forTls)
            {
                return pem;
            }

            // A key loaded from PEM is ephemeral, which some platforms' TLS stacks refuse: carried over through PKCS#12.
            using (pem)
            {
#if NET9_0_OR_GREATER
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
#else
                return new X509Certificate2(pem.Export(X509ContentType.Pkcs12));
#endif
            }
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"{setting}:Path '{path}' could not be read as a certificate with its private key (is {setting}:Password right?): {ex.Message}");
        }
    }

    /// <summary>Whether the file is PKCS#12 (<c>.pfx</c>, <c>.p12</c>) rather than PEM, by its name.</summary>
    public static bool IsPkcs12(string path) =>
        path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    private static string Source(ClientCertificateOptions options) =>
        options.Certificate is not null ? "the certificate given in code" : $"ClientCertificate:Path '{options.Path}'";
}
