using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenClient.Tests.Credentials;

/// <summary>Keys and certificates made for a test, written to a folder of its own that is deleted with it.</summary>
internal sealed class TestKeys : IDisposable
{
    public TestKeys() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "tokenclient-keys-" + Guid.NewGuid().ToString("N"));

    /// <summary>A self-signed certificate with a fresh RSA key of <paramref name="bits"/>.</summary>
    public static X509Certificate2 RsaCertificate(int bits = 2048)
    {
        using var rsa = RSA.Create(bits);
        var request = new CertificateRequest("CN=tokenclient-test-client", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Writes the certificate and its key as a PKCS#12 file with <paramref name="password"/>.</summary>
    public string Pfx(X509Certificate2 certificate, string password)
    {
        var path = Path.Combine(Folder, Guid.NewGuid().ToString("N") + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }

    /// <summary>Writes <paramref name="pem"/> to a .pem file.</summary>
    public string Pem(string pem)
    {
        var path = Path.Combine(Folder, Guid.NewGuid().ToString("N") + ".pem");
        File.WriteAllText(path, pem);
        return path;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
