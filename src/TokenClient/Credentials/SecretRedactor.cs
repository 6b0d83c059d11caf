using System.Net;
using System.Text;
using System.Text.Encodings.Web;

namespace TokenClient.Credentials;

/// <summary>
/// Removes one client's secrets from text a server sent, before the library quotes it anywhere (an
/// exception, a log line): the client secret, the password, the refresh token and the access tokens
/// it issued, in each form a server might echo them. A text that still hides a secret in a form
/// not listed (escaped twice, say) is withheld whole.
/// </summary>
internal sealed class SecretRedactor
{
    /// <summary>What stands in place of a secret.</summary>
    public const string Marker = "[redacted]";

    // A partial base64 form shorter than this would match too much ordinary text to be worth replacing.
    private const int MinShiftedBase64 = 8;

    // How many of the newest access tokens are remembered: the current one and the one before it.
    private const int IssuedTokensKept = 2;

    // The configured secrets' forms, computed when a text is first redacted (a failure to quote) and shared by the client's
    // tenants: a client that never fails never computes them.
    private readonly Lazy<Secrets> _configured;
    private string[] _recentAccessTokens = [];
    private string? _refreshToken;
    private string? _lastAssertion;
    private string? _lastProof;
    private string? _previousProof;

    // The forms of the issued tokens, computed when first needed (a failure to quote): a tenant's entry
    // holds just the tokens until then.
    private volatile Secrets? _issued;

    public SecretRedactor(TokenClientOptions options)
    {
        var (clientId, clientSecret, password) = (options.ClientId, options.ClientSecret, options.Password);
        _configured = new Lazy<Secrets>(() => Configured(clientId, clientSecret, password));
    }

    private static Secrets Configured(string? clientId, string? clientSecret, string? password)
    {
        var secrets = new List<string>();
        var forms = new List<string>();
        foreach (var secret in new[] { clientSecret, password })
        {
            Add(secret, secrets, forms);
        }

        if (!string.IsNullOrEmpty(clientId) && !string.IsNullOrEmpty(clientSecret))
        {
            // RFC 6749 2.3.1 Basic credentials, as sent, and as a server that skips the form-encoding would send them.
            AddBase64(ClientSecretBasic.Header(clientId, clientSecret).Parameter!, forms);
            AddBase64(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{clientSecret}")), forms);
        }

        return new Secrets(secrets, forms);
    }

    // The same configured secrets (their forms are computed once per client definition), and no issued token yet.
    private SecretRedactor(Lazy<Secrets> configured) => _configured = configured;

    /// <summary>A redactor for another tenant of the same client: the configured secrets shared, the issued tokens its own.</summary>
    public SecretRedactor ForAnotherTenant() => new(_configured);

    /// <summary>Adds the tokens the server just issued to what is removed; the oldest access tokens are forgotten.</summary>
    public void RememberIssued(string accessToken, string? refreshToken)
    {
        _recentAccessTokens = [accessToken, .. _recentAccessTokens.Take(IssuedTokensKept - 1)];
        _refreshToken = refreshToken;
        _issued = null;
    }

    /// <summary>Adds the client assertion just sent to what is removed (the one before it is forgotten: it has expired or been used).</summary>
    public void RememberSent(string assertion)
    {
        _lastAssertion = assertion;
        _issued = null;
    }

    /// <summary>
    /// Adds the DPoP proof just sent to what is removed, beside the assertion sent with it; the one before it too, which a
    /// server asking for a nonce may quote in its answer to the next (the one before that is forgotten).
    /// </summary>
    public void RememberProof(string proof)
    {
        (_previousProof, _lastProof) = (_lastProof, proof);
        _issued = null;
    }

    /// <summary>Takes over the tokens another redactor of the same tenant remembered.</summary>
    public void CarryIssued(SecretRedactor other)
    {
        _recentAccessTokens = other._recentAccessTokens;
        _refreshToken = other._refreshToken;
        _issued = null;
    }

    private Secrets Issued
    {
        get
        {
            if (_issued is { } issued)
            {
                return issued;
            }

            var secrets = new List<string>();
            var forms = new List<string>();
            // Stryker disable once Linq : the order of the tokens is lost anyway: their forms are sorted by length
            foreach (var token in _recentAccessTokens.Append(_refreshToken).Append(_lastAssertion).Append(_lastProof).Append(_previousProof))
            {
                Add(token, secrets, forms);
            }

            return _issued = new Secrets(secrets, forms);
        }
    }

    /// <summary>
    /// The text with every known form of every secret replaced by <see cref="Marker"/>, or the marker alone
    /// if a secret is still hidden in it; the same instance when it holds none. The whole text is searched,
    /// however little of it will be quoted: a cut could otherwise fall inside a secret.
    /// </summary>
    public string Redact(string text)
    {
        var redacted = ReplaceKnownForms(text);
        return HidesSecret(redacted) ? Marker : redacted;
    }

    private string ReplaceKnownForms(string text)
    {
        foreach (var secrets in new[] { _configured.Value, Issued })
        {
            foreach (var form in secrets.Forms)
            {
                if (text.Contains(form, StringComparison.OrdinalIgnoreCase))
                {
                    text = text.Replace(form, Marker, StringComparison.OrdinalIgnoreCase);
                }
            }
        }

        return text;
    }

    // The text as a server may have encoded it once or twice (JSON, URL, HTML), searched for each secret itself.
    private bool HidesSecret(string text)
    {
        // Stryker disable once Initializer : the text itself comes back as one of its decodings, unchanged when it has nothing to decode
        var views = new HashSet<string>(StringComparer.Ordinal) { text };
        var round = new List<string> { text };
        for (var depth = 0; depth < 2; depth++)
        {
            var next = new List<string>();
            foreach (var view in round)
            {
                foreach (var decoded in new[] { JsonUnescape(view), WebUtility.UrlDecode(view), WebUtility.HtmlDecode(view) })
                {
                    if (views.Add(decoded))
                    {
                        next.Add(decoded);
                    }
                }
            }

            round = next;
        }

        var issued = Issued;
        return views.Any(view => _configured.Value.Contain(view) || issued.Contain(view));
    }

    private static void Add(string? secret, List<string> secrets, List<string> forms)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return;
        }

        secrets.Add(secret);
        var escapedData = Uri.EscapeDataString(secret);
        var json = new[]
        {
            JsonEscape(secret, asciiOnly: false),
            JsonEscape(secret, asciiOnly: true),
            JavaScriptEncoder.Default.Encode(secret),
        };
        forms.AddRange(
        [
            secret,
            escapedData,
            escapedData.Replace("%20", "+", StringComparison.Ordinal),
            WebUtility.UrlEncode(secret),
            WebUtility.HtmlEncode(secret),
            .. json,
            .. json.Select(j => j.Replace("/", "\\/", StringComparison.Ordinal)),
        ]);
        AddBase64(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), forms);
        AddShiftedBase64(Encoding.UTF8.GetBytes(secret), forms);
    }

    // The secret inside a longer text that was base64-encoded whole (a gateway echoing the request body):
    // at each of the three offsets a byte can have within a base64 group, the characters that depend on
    // the secret's bytes alone.
    private static void AddShiftedBase64(byte[] secret, List<string> forms)
    {
        for (var offset = 1; offset <= 2; offset++)
        {
            var shifted = new byte[offset + secret.Length];
            secret.CopyTo(shifted, offset);
            var base64 = Convert.ToBase64String(shifted);
            var start = offset == 1 ? 2 : 3; // the characters that mix the unknown bytes before the secret
            var end = ((offset + secret.Length) % 3) switch { 1 => 3, 2 => 2, _ => 0 }; // and those after it
            if (base64.Length - start - end >= MinShiftedBase64)
            {
                var core = base64[start..^end];
                forms.Add(core);
                forms.Add(core.Replace('+', '-').Replace('/', '_'));
            }
        }

        var aligned = Convert.ToBase64String(secret);
        var alignedEnd = (secret.Length % 3) switch { 1 => 3, 2 => 2, _ => 0 };

        // Stryker disable once Equality : exactly 8 characters means 6 bytes, a multiple of 3, whose whole base64 (added by Add) is the same text
        if (aligned.Length - alignedEnd >= MinShiftedBase64)
        {
            forms.Add(aligned[..^alignedEnd]);
            forms.Add(aligned[..^alignedEnd].Replace('+', '-').Replace('/', '_'));
        }
    }

    // Base64 as it is, without its padding, and in its URL-safe alphabet.
    private static void AddBase64(string base64, List<string> forms) =>
        forms.AddRange([base64, base64.TrimEnd('='), base64.TrimEnd('=').Replace('+', '-').Replace('/', '_')]);

    // JSON string escaping as servers write it: only what JSON needs, or that and every non-ASCII character.
    private static string JsonEscape(string value, bool asciiOnly)
    {
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => builder.Append("\\\""),
                '\\' => builder.Append("\\\\"),
                < ' ' => builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)),
                > '~' when asciiOnly => builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    // Undoes JSON string escapes (\uXXXX, \n, \", \/ and the rest), leaving anything malformed as it is.
    private static string JsonUnescape(string text)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                builder.Append(text[i]);
                continue;
            }

            var next = text[++i];
            if (next == 'u' && i + 4 < text.Length && ushort.TryParse(text.AsSpan(i + 1, 4), System.Globalization.NumberStyles.HexNumber, null, out var code))
            {
                builder.Append((char)code);
                i += 4;
            }
            else
            {
                builder.Append(next switch { 'n' => '\n', 'r' => '\r', 't' => '\t', 'b' => '\b', 'f' => '\f', _ => next });
            }
        }

        return builder.ToString();
    }

    /// <summary>Some secrets, and every form of them that is replaced, longest first so that no shorter form splits a longer one.</summary>
    private sealed class Secrets(List<string> raw, List<string> forms)
    {
        public IReadOnlyList<string> Raw { get; } = raw;

        // No form is empty: Add takes no empty secret, and the shifted base64 forms are 8 characters at least.
        public IReadOnlyList<string> Forms { get; } = forms.Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(f => f.Length).ToArray();

        public bool Contain(string text) => Raw.Any(secret => text.Contains(secret, StringComparison.OrdinalIgnoreCase));
    }
}
