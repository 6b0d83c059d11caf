using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using TokenClient.Credentials;

namespace TokenClient.Tests.Credentials;

/// <summary>Each form a server may echo a secret in is replaced; a form not listed withholds the whole text.</summary>
public class SecretRedactorTests
{
    private const string Secret = "Sx7Kq2Wm9 +/é&<\"'>%Zt4Pv8Rn3";

    // A new one for each test (xunit makes a new instance of the class): built in a static, it would be built
    // once, before a mutation test could switch a mutant on.
    private readonly SecretRedactor _redactor = new(clientId: "the client", clientSecret: Secret, password: "pass word+é");

    public static TheoryData<string> EchoedForms() => new()
    {
        Secret,
        Secret.ToUpperInvariant(),
        Uri.EscapeDataString(Secret),
        Uri.EscapeDataString(Secret).ToLowerInvariant(),
        WebUtility.UrlEncode(Secret), // a form's encoding: a space as '+'
        WebUtility.HtmlEncode(Secret),
        JavaScriptEncoder.Default.Encode(Secret),
        JavaScriptEncoder.UnsafeRelaxedJsonEscaping.Encode(Secret),
        JavaScriptEncoder.UnsafeRelaxedJsonEscaping.Encode(Secret).Replace("/", "\\/", StringComparison.Ordinal), // JSON with '/' escaped, as PHP writes it
        "Sx7Kq2Wm9 +/\\u00e9&<\\\"'>%Zt4Pv8Rn3", // only non-ASCII escaped, as Python's json does
        Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)),
        ClientSecretBasic.Header("the client", Secret).Parameter!,
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"the client:{Secret}")).TrimEnd('='),
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"the client:{Secret}")).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
        "pass word+é",
        Uri.EscapeDataString("pass word+é"),
    };

    [Fact]
    public void EchoedForms_AreAllDistinct_SoThatNoRowIsSkipped()
    {
        // xunit skips a row equal to another with a mere warning: each row must be a form of its own.
        var forms = ((IEnumerable<object[]>)EchoedForms()).Select(row => (string)row[0]).ToList();

        forms.Should().OnlyHaveUniqueItems();
    }

    [Theory]
    [MemberData(nameof(EchoedForms))]
    public void Redact_EchoedForm_IsReplacedAndTheRestKept(string form)
    {
        var redacted = _redactor.Redact($"before {form} after");

        redacted.Should().Be($"before {SecretRedactor.Marker} after");
    }

    [Theory]
    [InlineData("JSON inside a form")]
    [InlineData("a form inside HTML")]
    public void Redact_SecretEncodedTwice_WithholdsTheWholeText(string how)
    {
        var echoed = how == "JSON inside a form"
            ? Uri.EscapeDataString(JavaScriptEncoder.Default.Encode(Secret))
            : WebUtility.HtmlEncode(WebUtility.UrlEncode(Secret)).Replace("%", "&#37;", StringComparison.Ordinal);

        _redactor.Redact($"you sent {echoed}").Should().Be(SecretRedactor.Marker);
    }

    [Theory]
    [InlineData("line\nbreak")]
    [InlineData("tab\there")]
    [InlineData("back\\slash")]
    public void Redact_SecretWithCharactersJsonMustEscape_EscapedFormIsReplaced(string secret)
    {
        var redactor = new SecretRedactor(clientId: "id", clientSecret: secret);
        var echoed = System.Text.Json.JsonSerializer.Serialize(secret)[1..^1]; // as a JSON string's content

        redactor.Redact($"before {echoed} after").Should().Be($"before {SecretRedactor.Marker} after");
    }

    // JSON as Python (ensure_ascii=False) or .NET's relaxed encoder writes it: only '"', '\\' and control
    // characters escaped, '<' and non-ASCII left as they are. JavaScriptEncoder.Default would escape those too.
    [Theory]
    [InlineData("k\\ey<z\u00e9", "k\\\\ey<z\u00e9")]
    [InlineData("k\u0001ey<z\u00e9", "k\\u0001ey<z\u00e9")]
    [InlineData("k\"ey<z\u00e9", "k\\\"ey<z\u00e9")]
    [InlineData("k~ey<z\u00e9", "k~ey<z\\u00e9")] // Python's ensure_ascii: '~' is ASCII and stays
    public void Redact_SecretInMinimallyEscapedJson_IsReplacedAndTheRestKept(string secret, string echoed)
    {
        var redactor = new SecretRedactor(clientId: "id", clientSecret: secret);
        System.Text.Json.JsonSerializer.Deserialize<string>($"\"{echoed}\"").Should().Be(secret, "the echo is the secret as a JSON string");

        redactor.Redact($"before {echoed} after").Should().Be($"before {SecretRedactor.Marker} after");
    }

    [Fact]
    public void Redact_SecretWithSpacesAndReservedCharacters_FormEncodedWithPlusForSpaces_IsReplaced()
    {
        // RFC 3986 escaping with '+' for spaces (as some form encoders do) differs from WebUtility.UrlEncode, which leaves '!' and '(' alone.
        const string secret = "a b!c(d)";
        var redactor = new SecretRedactor(clientId: null, clientSecret: secret);
        var echoed = Uri.EscapeDataString(secret).Replace("%20", "+", StringComparison.Ordinal);
        echoed.Should().NotBe(WebUtility.UrlEncode(secret));

        redactor.Redact($"client_secret={echoed}&x=1").Should().Be($"client_secret={SecretRedactor.Marker}&x=1");
    }

    [Fact]
    public void Redact_ClientIdWithoutASecret_HasNoBasicCredentialsToReplace()
    {
        // A password client (Wokelo) may have an id and no secret: "id:" is no credential, and its base64 is ordinary text.
        var redactor = new SecretRedactor(clientId: "wokelo-app", password: "pw-9f8e7d6c");
        var basicOfIdAlone = Convert.ToBase64String(Encoding.UTF8.GetBytes("wokelo-app:"));

        redactor.Redact($"header {basicOfIdAlone} pw-9f8e7d6c").Should().Be($"header {basicOfIdAlone} {SecretRedactor.Marker}");
    }

    [Fact]
    public void Redact_BasicCredentialsOfTheRawIdAndSecret_AreReplaced()
    {
        var redactor = new SecretRedactor(clientId: "a b", clientSecret: "c d");
        var raw = Convert.ToBase64String(Encoding.UTF8.GetBytes("a b:c d"));

        redactor.Redact($"Authorization: Basic {raw}").Should().Be($"Authorization: Basic {SecretRedactor.Marker}");
    }

    [Fact]
    public void Redact_SecretAlone_IsReplacedWhole_NotAsAShorterFormInside()
    {
        // The secret's escaped forms hold pieces of the raw one: the longest form goes first, so one marker stands for the whole echo.
        var redactor = new SecretRedactor(clientId: "id", clientSecret: "a/b+c d");

        redactor.Redact("x a\\/b+c d y").Should().Be($"x {SecretRedactor.Marker} y");
    }

    [Theory]
    [InlineData("\\u00e9 truncated \\u00")]
    [InlineData("ends with three hex digits \\u004")]
    [InlineData("ends with four \\u0041")]
    [InlineData("ends with a backslash \\")]
    [InlineData("\\uZZZZ is no escape")]
    public void Redact_MalformedEscapesWithoutSecret_ReturnTheTextUnchanged(string text)
    {
        _redactor.Redact(text).Should().BeSameAs(text);
    }

    [Fact]
    public void Redact_NoSecret_ReturnsTheTextUnchanged()
    {
        const string text = "invalid_client: Client authentication failed (client_id=the client) <b>é</b> \\u00e9";

        _redactor.Redact(text).Should().BeSameAs(text);
    }

    [Fact]
    public void Redact_UnknownFormFarIntoALongText_WithholdsTheWholeText()
    {
        // Only the start of a text is quoted, but a cut must never fall inside a secret: the whole text is searched.
        var text = new string('x', 5000) + Uri.EscapeDataString(Uri.EscapeDataString(Secret)) + new string('y', 500);

        _redactor.Redact(text).Should().Be(SecretRedactor.Marker);
    }

    // The secret's length in bytes is 30: with one or two more, its base64 ends mid-group, at each alignment.
    [Theory]
    [InlineData("", "")]
    [InlineData("a", "")]
    [InlineData("ab", "")]
    [InlineData("grant_type=client_credentials&client_secret=", "")]
    [InlineData("", "1")]
    [InlineData("a", "1")]
    [InlineData("ab", "1")]
    [InlineData("", "12")]
    [InlineData("a", "12")]
    [InlineData("ab", "12")]
    public void Redact_RequestBodyEchoedInBase64_AtAnyAlignment_IsReplaced(string before, string longer)
    {
        var secret = Secret + longer;
        var redactor = new SecretRedactor(clientId: "the client", clientSecret: secret);
        var echoed = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{before}{secret}&audience=x"));

        var redacted = redactor.Redact($"body was {echoed}");

        redacted.Should().Contain(SecretRedactor.Marker);
        foreach (var part in redacted.Replace("body was ", string.Empty, StringComparison.Ordinal).Split(SecretRedactor.Marker))
        {
            foreach (var decoded in DecodingsOf(part))
            {
                for (var i = 0; i + 4 <= Secret.Length; i++)
                {
                    decoded.Should().NotContain(Secret.Substring(i, 4), "what is left decodes to the text around the secret, not to any of it");
                }
            }
        }
    }

    // In a body echoed whole in base64, exactly the characters that depend on the secret's bytes alone are
    // replaced, whatever the secret's length and place; a run shorter than 8 characters is left, as ordinary
    // text would match it too. The expectation is computed from the bits each character encodes.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Redact_BodyEchoedInBase64_ReplacesExactlyTheCharactersOfTheSecretAlone(int prefixLength)
    {
        var prefix = new string('p', prefixLength);
        // The second alphabet: '?', '>' and '~' make base64 write '/' and '+', which base64url writes '_' and '-'.
        foreach (var (length, alphabet) in new[] { 5, 6, 7, 8, 9, 10, 11, 12, 29, 30, 31 }.SelectMany(l => new[] { (l, "Qw3!rT9$zX5#kL8@mN2%vB6^"), (l, "???>>>~~~??>>~~?>~???>>>") }))
        {
            var secret = alphabet[..Math.Min(length, 24)] + new string('s', Math.Max(0, length - 24));
            var redactor = new SecretRedactor(clientId: null, clientSecret: secret);
            var body = Encoding.ASCII.GetBytes($"{prefix}{secret}~&x=1"); // '~' after it: no shorter form of the secret can run on into it
            var (start, end) = SecretOnlyRun(prefixLength, length);
            var aligned = prefixLength % 3 == 0 && length % 3 == 0; // the secret's own base64 sits in the body's as it is
            foreach (var urlSafe in new[] { false, true })
            {
                var echoed = Convert.ToBase64String(body);
                echoed = urlSafe ? echoed.TrimEnd('=').Replace('+', '-').Replace('/', '_') : echoed;
                var expected = end - start >= 8 || aligned ? echoed[..start] + SecretRedactor.Marker + echoed[end..] : echoed;

                redactor.Redact(echoed).Should().Be(expected, $"a secret of {length} bytes after {prefixLength} bytes, {(urlSafe ? "URL-safe" : "standard")} alphabet");
            }
        }
    }

    // The base64 characters (from start to end) each of whose 6 bits come from the secret's bytes alone.
    private static (int Start, int End) SecretOnlyRun(int before, int length)
    {
        var (start, end) = (-1, -1);
        for (var i = 0; 6 * i < 8 * (before + length); i++)
        {
            var (first, last) = (6 * i / 8, ((6 * i) + 5) / 8);
            if (first >= before && last < before + length)
            {
                (start, end) = (start < 0 ? i : start, i + 1);
            }
        }

        return (start, end);
    }

    [Fact]
    public void Redact_SecretEncodedThreeTimes_IsBeyondTheTwoLevelsThatAreSearched()
    {
        // Each level of decoding triples the texts searched; two cover every echo seen in practice (a JSON string inside a form, say).
        var thrice = Uri.EscapeDataString(Uri.EscapeDataString(JavaScriptEncoder.Default.Encode("pass word+é")));
        var twice = Uri.EscapeDataString(JavaScriptEncoder.Default.Encode("pass word+é"));

        _redactor.Redact($"x {twice}").Should().Be(SecretRedactor.Marker);
        _redactor.Redact($"x {thrice}").Should().Be($"x {thrice}");
    }

    // A part of a base64 text decoded from each of the four places a group may start.
    private static IEnumerable<string> DecodingsOf(string part)
    {
        for (var start = 0; start < 4 && start < part.Length; start++)
        {
            var chunk = part[start..].TrimEnd('=');
            chunk = chunk[..(chunk.Length / 4 * 4)];
            var bytes = new byte[chunk.Length];
            if (Convert.TryFromBase64String(chunk, bytes, out var written))
            {
                yield return Encoding.UTF8.GetString(bytes, 0, written);
            }
        }
    }

    [Fact]
    public void Redact_SecretEchoedInBase64Url_IsReplaced()
    {
        var echoed = Convert.ToBase64String(Encoding.UTF8.GetBytes($"x{Secret}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        _redactor.Redact(echoed).Should().Contain(SecretRedactor.Marker);
    }

    [Fact]
    public void RememberIssued_TheCurrentAndPreviousAccessTokensAndTheRefreshToken_AreReplaced_OlderOnesForgotten()
    {
        var redactor = new SecretRedactor(clientId: "id", clientSecret: "s3cr3t-value");
        redactor.RememberIssued("access-one", "refresh-one");
        redactor.RememberIssued("access-two", "refresh-two");
        redactor.RememberIssued("access-three", "refresh-three");

        redactor.Redact("access-three access-two refresh-three").Should().Be("[redacted] [redacted] [redacted]");
        redactor.Redact("access-one refresh-two").Should().Be("access-one refresh-two", "only the two newest access tokens and the current refresh token are held");
    }

    [Fact]
    public void TheLastTwoDpopProofs_AreRedacted_BesideTheAssertion_AndTheOneBeforeIsForgotten()
    {
        var redactor = new SecretRedactor(clientId: "id", clientSecret: "s3cret-Qx");
        redactor.RememberSent("assertion.jwt.A");
        redactor.RememberProof("proof.jwt.1");
        redactor.RememberProof("proof.jwt.2");

        redactor.Redact("echo assertion.jwt.A proof.jwt.1 proof.jwt.2").Should().Be("echo [redacted] [redacted] [redacted]");

        redactor.RememberProof("proof.jwt.3");
        redactor.Redact("echo proof.jwt.1 proof.jwt.2 proof.jwt.3").Should().Be("echo proof.jwt.1 [redacted] [redacted]");
    }
}
