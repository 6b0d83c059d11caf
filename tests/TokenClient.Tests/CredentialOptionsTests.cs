using System.Security.Cryptography;
using TokenClient.Tests.Credentials;

namespace TokenClient.Tests;

/// <summary>The settings of a signing key and of a client certificate: whether one is set, and their description without a secret.</summary>
public class CredentialOptionsTests
{
    [Fact]
    public void SigningKey_IsSetByAnyOfItsThreeWays_AndDescribedByTheOneGiven()
    {
        using var certificate = TestKeys.RsaCertificate();
        using var key = RSA.Create(2048);

        var none = new SigningKeyOptions { Password = "never-shown" };
        var path = new SigningKeyOptions { Path = "/keys/client.pem", Password = "never-shown" };
        var inCode = new SigningKeyOptions { Key = key, Algorithm = "PS256" };
        var ofCertificate = new SigningKeyOptions { Certificate = certificate };

        (none.IsSet, path.IsSet, inCode.IsSet, ofCertificate.IsSet).Should().Be((false, true, true, true));
        new SigningKeyOptions { Path = "" }.IsSet.Should().BeFalse("an empty path names no file");
        none.ToString().Should().Be("no signing key");
        path.ToString().Should().Be("RS256 key from '/keys/client.pem'");
        inCode.ToString().Should().Be("PS256 key given in code");
        ofCertificate.ToString().Should().Be($"RS256 key of certificate {certificate.Thumbprint}");
    }

    [Fact]
    public void ClientCertificate_IsSetByAPathOrInCode_AndDescribedByTheOneGiven()
    {
        using var certificate = TestKeys.RsaCertificate();

        var none = new ClientCertificateOptions { Password = "never-shown" };
        var path = new ClientCertificateOptions { Path = "/certs/client.pfx", Password = "never-shown" };
        var inCode = new ClientCertificateOptions { Certificate = certificate };

        (none.IsSet, path.IsSet, inCode.IsSet).Should().Be((false, true, true));
        new ClientCertificateOptions { Path = "" }.IsSet.Should().BeFalse("an empty path names no file");
        none.ToString().Should().Be("no client certificate");
        path.ToString().Should().Be("client certificate from '/certs/client.pfx'");
        inCode.ToString().Should().Be($"client certificate {certificate.Thumbprint}");
    }
}
