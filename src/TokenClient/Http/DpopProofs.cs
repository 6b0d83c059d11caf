using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using TokenClient.Jose;

namespace TokenClient.Http;

/// <summary>
/// One client's DPoP key (RFC 9449) and the proofs it signs: an EC P-256 key made in memory when the client first needs
/// it and kept for the container's lifetime, so a token bound to it stays usable through configuration reloads. It never
/// leaves the process: a token bound to it is of no use to another instance, which is why DPoP and the shared cache
/// exclude each other. It also keeps the last nonce each server gave (<c>DPoP-Nonce</c>), by origin.
/// </summary>
internal sealed class DpopProofs
{
    /// <summary>The token type and the <c>Authorization</c> scheme of a DPoP-bound token, and the name of the proof's header.</summary>
    public const string Scheme = "DPoP";

    /// <summary>The header in which a server gives the nonce to put in the next proof.</summary>
    public const string NonceHeader = "DPoP-Nonce";

    // A nonce is an opaque server value (RFC 9449 section 8.1); one this long is not one any server needs.
    private const int MaxNonceLength = 512;

    // The servers a client talks to are few; a client sent to many origins forgets their nonces rather than grow.
    private const int MaxOrigins = 64;

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ConcurrentDictionary<string, string> _nonces = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly string _x;
    private readonly string _y;

    public DpopProofs(TimeProvider time)
    {
        _time = time;
        var point = _key.ExportParameters(includePrivateParameters: false).Q;
        _x = CompactJws.Base64Url(point.X);
        _y = CompactJws.Base64Url(point.Y);
    }

    /// <summary>
    /// A new proof for one request (RFC 9449 section 4.2): <c>htm</c> and <c>htu</c> of the request, a unique <c>jti</c>,
    /// <c>iat</c> now, the origin's nonce if it gave one, and with an access token its hash as <c>ath</c>.
    /// </summary>
    public string Create(HttpMethod method, Uri target, string? accessToken)
    {
        var nonce = _nonces.GetValueOrDefault(Origin(target));
        var issuedAt = _time.GetUtcNow().ToUnixTimeSeconds();
        return CompactJws.Sign(_key, "ES256", writer =>
        {
            writer.WriteString("typ", "dpop+jwt");
            writer.WriteString("alg", "ES256");
            writer.WriteStartObject("jwk");
            writer.WriteString("kty", "EC");
            writer.WriteString("crv", "P-256");
            writer.WriteString("x", _x);
            writer.WriteString("y", _y);
            writer.WriteEndObject();
        }, writer =>
        {
            writer.WriteString("jti", Guid.NewGuid().ToString("N"));
            writer.WriteString("htm", method.Method);
            writer.WriteString("htu", target.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped));
            writer.WriteNumber("iat", issuedAt);
            if (accessToken is not null)
            {
                writer.WriteString("ath", CompactJws.Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken))));
            }

            if (nonce is not null)
            {
                writer.WriteString("nonce", nonce);
            }
        });
    }

    /// <summary>
    /// Keeps the nonce a server at <paramref name="target"/>'s origin gave, if it is one (RFC 9449's <c>NQCHAR</c>s, of
    /// reasonable length); true when it differs from the one held, so that a proof made now carries a new nonce.
    /// </summary>
    public bool TakeNonce(Uri target, string? nonce)
    {
        if (nonce is null or { Length: 0 or > MaxNonceLength } || nonce.AsSpan().ContainsAnyExcept(s_nonceCharacters))
        {
            return false;
        }

        var origin = Origin(target);
        if (_nonces.TryGetValue(origin, out var held) && held == nonce)
        {
            return false;
        }

        if (_nonces.Count >= MaxOrigins && !_nonces.ContainsKey(origin))
        {
            _nonces.Clear();
        }

        _nonces[origin] = nonce;
        return true;
    }

    /// <summary>The <c>DPoP-Nonce</c> header's value, if the response has exactly one.</summary>
    public static string? NonceOf(HttpResponseHeaders headers) =>
        headers.NonValidated.TryGetValues(NonceHeader, out var values) && values.Count == 1 ? values.ToString() : null;

    /// <summary>A resource server's demand for a nonce (RFC 9449 section 9): 401 with <c>WWW-Authenticate: DPoP error="use_dpop_nonce"</c>.</summary>
    public static bool AsksForNonce(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return false;
        }

        foreach (var challenge in response.Headers.WwwAuthenticate)
        {
            if (string.Equals(challenge.Scheme, Scheme, StringComparison.OrdinalIgnoreCase)
                && challenge.Parameter?.Contains("use_dpop_nonce", StringComparison.Ordinal) == true)
            {
                return true;
            }
        }

        return false;
    }

    // NQCHAR = %x21 / %x23-5B / %x5D-7E: visible ASCII but '"' and '\'.
    private static readonly System.Buffers.SearchValues<char> s_nonceCharacters = System.Buffers.SearchValues.Create(
        "!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private static string Origin(Uri target) => target.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);
}
