using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace TokenClient.Jose;

/// <summary>
/// Compact JWS (RFC 7515 section 7.1) signed with System.Security.Cryptography alone: RS256, PS256 or ES256, the header and
/// payload written with <see cref="Utf8JsonWriter"/> (trimming- and AOT-safe). Client assertions and DPoP proofs are made here.
/// </summary>
internal static class CompactJws
{
    // Escape only what JSON requires: "dpop+jwt" and a URL's '&' go as they are, not as \u002B and \u0026.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The signed JWT: base64url header, payload and signature, joined by dots.</summary>
    public static string Sign(AsymmetricAlgorithm key, string algorithm, Action<Utf8JsonWriter> header, Action<Utf8JsonWriter> payload)
    {
        var signingInput = $"{Base64Url(Json(header))}.{Base64Url(Json(payload))}";
        var data = Encoding.ASCII.GetBytes(signingInput);
        var signature = key switch
        {
            ECDsa ec => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, algorithm == "PS256" ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1),
            // Stryker disable once String : unreachable, every key is checked to be RSA or EC when it is loaded or made
            _ => throw new InvalidOperationException($"A {key.GetType().Name} key cannot sign {algorithm}."),
        };
        return $"{signingInput}.{Base64Url(signature)}";
    }

    /// <summary>Base64url without padding (RFC 7515 section 2).</summary>
    public static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
