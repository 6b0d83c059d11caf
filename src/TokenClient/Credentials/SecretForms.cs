using System.Net;
using System.Text;
using System.Text.Encodings.Web;

namespace TokenClient.Credentials;

/// <summary>The forms in which a server may echo a secret: escaped for a URL, a form, HTML or JSON, base64 whole or in part.</summary>
internal static class SecretForms
{
    // A partial base64 form shorter than this would match too much ordinary text to be worth replacing.
    private const int MinShiftedBase64 = 8;

    /// <summary>Adds <paramref name="secret"/> to <paramref name="secrets"/>, and each form of it a server may echo to <paramref name="forms"/>.</summary>
    public static void Add(string? secret, List<string> secrets, List<string> forms)
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
    public static void AddBase64(string base64, List<string> forms) =>
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
    public static string JsonUnescape(string text)
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
}
