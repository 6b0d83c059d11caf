namespace TokenClient;

/// <summary>The one rule for where credentials and tokens may travel in clear: https, or http to this machine only.</summary>
internal static class Origins
{
    /// <summary>Whether <paramref name="uri"/> is https, or http to a loopback address.</summary>
    public static bool IsHttpsOrLoopback(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);
}
