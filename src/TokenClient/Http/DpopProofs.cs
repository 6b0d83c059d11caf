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
    private readonly ConcurrentDictionary<(bool AtTokenEndpoint, string Origin), string> _nonces = new();
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
    /// <c>iat</c> now, the nonce the server gave if it gave one (<paramref name="nonce"/>), and with an access token (a request
    /// to a resource server) its hash as <c>ath</c>.
    /// </summary>
    public string Create(HttpMethod method, Uri target, string? accessToken, out string? nonce)
    {
        var sent = nonce = _nonces.GetValueOrDefault(Key(target, atTokenEndpoint: accessToken is null));
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
            writer.WriteString("htu", Htu(target));
            writer.WriteNumber("iat", issuedAt);
            if (accessToken is not null)
            {
                writer.WriteString("ath", CompactJws.Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken))));
            }

            if (sent is not null)
            {
                writer.WriteString("nonce", sent);
            }
        });
    }

    /// <summary>
    /// Keeps the nonce a server gave (the token endpoint's and the APIs' apart, by origin), if it is one: RFC 9449's
    /// <c>NQCHAR</c>s, of reasonable length. Returns it; null when there was none, or none worth keeping.
    /// </summary>
    public string? Keep(Uri target, bool atTokenEndpoint, string? nonce)
    {
        if (nonce is null or { Length: 0 or > MaxNonceLength } || nonce.AsSpan().ContainsAnyExcept(s_nonceCharacters))
        {
            return null;
        }

        var key = Key(target, atTokenEndpoint);
        if (_nonces.Count >= MaxOrigins && !_nonces.ContainsKey(key))
        {
            _nonces.Clear();
        }

        _nonces[key] = nonce;
        return nonce;
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
            if (string.Equals(challenge.Scheme, Scheme, StringComparison.OrdinalIgnoreCase) && ErrorOf(challenge.Parameter) == "use_dpop_nonce")
            {
                return true;
            }
        }

        return false;
    }

    // The challenge's error parameter (RFC 6750 section 3): error=code or error="code", among other auth-params.
    private static string? ErrorOf(string? parameters)
    {
        foreach (var parameter in (parameters ?? "").Split(',', StringSplitOptions.TrimEntries))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && parameter.AsSpan(0, equals).Trim().Equals("error", StringComparison.OrdinalIgnoreCase))
            {
                return parameter[(equals + 1)..].Trim().Trim('"');
            }
        }

        return null;
    }

    // NQCHAR = %x21 / %x23-5B / %x5D-7E: visible ASCII but '"' and '\'.
    private static readonly System.Buffers.SearchValues<char> s_nonceCharacters = System.Buffers.SearchValues.Create(
        "!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    // The target URI without query and fragment (RFC 9449 section 4.2), its host in ASCII (punycode) as it goes on the wire.
    private static string Htu(Uri target) =>
        $"{target.Scheme}://{(target.HostNameType == UriHostNameType.Dns ? target.IdnHost : target.Host)}{(target.IsDefaultPort ? "" : $":{target.Port}")}{target.AbsolutePath}";

    // The token endpoint's nonce and an API's are kept apart even on one origin (a gateway that serves both).
    private static (bool, string) Key(Uri target, bool atTokenEndpoint) =>
        (atTokenEndpoint, target.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped));
}
