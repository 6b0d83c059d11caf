using System.Text;

namespace TokenClient.Tests.TestSupport;

/// <summary>Looks for a token in stored bytes: in clear, or inside base64 or base64url text at any of the three alignments.</summary>
internal static class TokenForms
{
    /// <summary>Where the token was found ("in clear", "in base64"…), or null.</summary>
    public static string? Find(byte[] stored, string token)
    {
        var text = Encoding.Latin1.GetString(stored);
        if (text.Contains(token, StringComparison.Ordinal))
        {
            return "in clear";
        }

        foreach (var core in Base64Cores(token))
        {
            if (text.Contains(core, StringComparison.Ordinal))
            {
                return "in base64";
            }

            if (text.Contains(core.Replace('+', '-').Replace('/', '_'), StringComparison.Ordinal))
            {
                return "in base64url";
            }
        }

        return null;
    }

    // The part of the token's base64 that any base64 text holding the token at that alignment contains: the
    // characters that encode the token's bytes alone, without those shared with a neighbour.
    private static IEnumerable<string> Base64Cores(string token)
    {
        for (var shift = 0; shift < 3; shift++)
        {
            var padded = Convert.ToBase64String(Encoding.UTF8.GetBytes(new string('\0', shift) + token));
            var start = (shift * 4 + 2) / 3 + 1;
            yield return padded[start..^4];
        }
    }
}
