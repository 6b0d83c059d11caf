using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TokenClient.Jose;

namespace TokenClient.Credentials;

/// <summary>
/// Signs client assertions (RFC 7523 section 3) with the configured key: RS256, PS256 or ES256, as a compact JWS
/// (<see cref="CompactJws"/>).
/// </summary>
internal sealed class ClientAssertionSigner
{
    /// <summary>How long an assertion is valid: long enough for one request, too short to be worth replaying.</summary>
    internal static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private static readonly string[] s_algorithms = ["RS256", "PS256", "ES256"];

    private readonly AsymmetricAlgorithm _key;
    private readonly string _algorithm;
    private readonly string? _keyId;
    private readonly string? _thumbprint;

    private ClientAssertionSigner(AsymmetricAlgorithm key, string algorithm, string? keyId, string? thumbprint)
    {
        _key = key;
        _algorithm = algorithm;
        _keyId = keyId;
        _thumbprint = thumbprint;
    }

    /// <summary>The key the options name, or what is wrong with them, naming the configuration key.</summary>
    public static ClientAssertionSigner Load(SigningKeyOptions options)
    {
        var algorithm = s_algorithms.FirstOrDefault(a => string.Equals(a, options.Algorithm, StringComparison.OrdinalIgnoreCase))
            ?? throw Problem($"SigningKey:Algorithm '{options.Algorithm}' is not supported; use RS256, PS256 or ES256.");
        var certificate = options.Certificate ?? CertificateFrom(options);
        var key = options.Key
            ?? (algorithm == "ES256" ? certificate?.GetECDsaPrivateKey() : (AsymmetricAlgorithm?)certificate?.GetRSAPrivateKey())
            ?? KeyFrom(options, algorithm);
        Check(key, algorithm, options);
        var thumbprint = certificate is null ? null : CompactJws.Base64Url(certificate.GetCertHash());
        return new ClientAssertionSigner(key, algorithm, options.KeyId ?? certificate?.Thumbprint, thumbprint);
    }

    /// <summary>A new assertion for one token request.</summary>
    public string Sign(string clientId, string audience, DateTimeOffset now)
    {
        var issuedAt = now.ToUnixTimeSeconds();
        return CompactJws.Sign(_key, _algorithm, writer =>
        {
            writer.WriteString("alg", _algorithm);
            writer.WriteString("typ", "JWT");
            if (_keyId is not null)
            {
                writer.WriteString("kid", _keyId);
            }

            if (_thumbprint is not null)
            {
                writer.WriteString("x5t", _thumbprint);
            }
        }, writer =>
        {
            writer.WriteString("iss", clientId);
            writer.WriteString("sub", clientId);
            writer.WriteString("aud", audience);
            writer.WriteString("jti", Guid.NewGuid().ToString("N"));
            writer.WriteNumber("iat", issuedAt);
            writer.WriteNumber("nbf", issuedAt);
            writer.WriteNumber("exp", issuedAt + (long)Lifetime.TotalSeconds);
        });
    }

    private static void Check(AsymmetricAlgorithm key, string algorithm, SigningKeyOptions options)
    {
        switch (algorithm, key)
        {
            case ("ES256", ECDsa { KeySize: 256 }):
            case ("RS256" or "PS256", RSA { KeySize: >= 2048 }):
                return;
            case ("ES256", _):
                throw Problem($"SigningKey ({Source(options)}) is not an EC P-256 key, which ES256 needs.");
            case (_, RSA rsa):
                throw Problem($"SigningKey ({Source(options)}) is an RSA key of {rsa.KeySize} bits; {algorithm} needs 2048 bits or more.");
            default:
                throw Problem($"SigningKey ({Source(options)}) is not an RSA key, which {algorithm} needs (ES256 takes an EC key).");
        }
    }

    private static string Source(SigningKeyOptions options) =>
        options.Key is not null ? "the key given in code" : options.Certificate is not null ? "the certificate given in code" : $"SigningKey:Path '{options.Path}'";

    // A PKCS#12 file, or a PEM file that holds the certificate too: the certificate, with the key. A PEM key alone: none.
    private static X509Certificate2? CertificateFrom(SigningKeyOptions options)
    {
        if (options.Key is not null || string.IsNullOrEmpty(options.Path))
        {
            return null;
        }

        if (!ClientCertificates.IsPkcs12(options.Path) && File.Exists(options.Path) && !File.ReadAllText(options.Path).Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            return null;
        }

        return ClientCertificates.Read("SigningKey", options.Path, options.Password, forTls: false);
    }

    private static AsymmetricAlgorithm KeyFrom(SigningKeyOptions options, string algorithm)
    {
        if (string.IsNullOrEmpty(options.Path))
        {
            throw Problem("SigningKey:Path (or a key or certificate given in code) is required when ClientAuthentication is 'PrivateKeyJwt', unless an IClientAssertionProvider is registered for the client.");
        }

        AsymmetricAlgorithm key = algorithm == "ES256" ? ECDsa.Create() : RSA.Create();
        try
        {
            var pem = File.ReadAllText(options.Path);
            if (string.IsNullOrEmpty(options.Password))
            {
                key.ImportFromPem(pem);
            }
            else
            {
                key.ImportFromEncryptedPem(pem, options.Password);
            }

            return key;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            var kind = algorithm == "ES256" ? "EC private key" : "RSA private key";
            throw Problem($"SigningKey:Path '{options.Path}' holds no {kind} that {algorithm} can use (is SigningKey:Password right?).");
        }
    }

    private static InvalidOperationException Problem(string message) => new(message);
}
