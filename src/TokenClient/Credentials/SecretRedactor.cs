using System.Net;
using System.Text;

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

    public SecretRedactor(string? clientId, string? clientSecret = null, string? password = null)
    {
        _configured = new Lazy<Secrets>(() => Configured(clientId, clientSecret, password));
    }

    private static Secrets Configured(string? clientId, string? clientSecret, string? password)
    {
        var secrets = new List<string>();
        var forms = new List<string>();
        foreach (var secret in new[] { clientSecret, password })
        {
            SecretForms.Add(secret, secrets, forms);
        }

        if (!string.IsNullOrEmpty(clientId) && !string.IsNullOrEmpty(clientSecret))
        {
            // RFC 6749 2.3.1 Basic credentials, as sent, and as a server that skips the form-encoding would send them.
            SecretForms.AddBase64(ClientSecretBasic.Header(clientId, clientSecret).Parameter!, forms);
            SecretForms.AddBase64(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{clientSecret}")), forms);
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
            foreach (var token in _recentAccessTokens.Append(_refreshToken).Append(_lastAssertion).Append(_lastProof).Append(_previousProof))
            {
                SecretForms.Add(token, secrets, forms);
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
        var views = new HashSet<string>(StringComparer.Ordinal) { text };
        var round = new List<string> { text };
        for (var depth = 0; depth < 2; depth++)
        {
            var next = new List<string>();
            foreach (var view in round)
            {
                foreach (var decoded in new[] { SecretForms.JsonUnescape(view), WebUtility.UrlDecode(view), WebUtility.HtmlDecode(view) })
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

    /// <summary>Some secrets, and every form of them that is replaced, longest first so that no shorter form splits a longer one.</summary>
    private sealed class Secrets(List<string> raw, List<string> forms)
    {
        public IReadOnlyList<string> Raw { get; } = raw;

        // No form is empty: Add takes no empty secret, and the shifted base64 forms are 8 characters at least.
        public IReadOnlyList<string> Forms { get; } = forms.Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(f => f.Length).ToArray();

        public bool Contain(string text) => Raw.Any(secret => text.Contains(secret, StringComparison.OrdinalIgnoreCase));
    }
}
