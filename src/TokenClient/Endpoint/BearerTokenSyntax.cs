namespace TokenClient.Endpoint;

/// <summary>RFC 6750 section 2.1: <c>b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="</c>.</summary>
internal static class BearerTokenSyntax
{
    /// <summary>The position of the first character a bearer token may not hold there, or null when the token is well formed.</summary>
    public static int? FirstInvalid(string token)
    {
        var i = 0;
        while (i < token.Length && IsTokenChar(token[i]))
        {
            i++;
        }

        if (i == 0)
        {
            return 0;
        }

        while (i < token.Length && token[i] == '=')
        {
            i++;
        }

        return i == token.Length ? null : i;
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/';
}
