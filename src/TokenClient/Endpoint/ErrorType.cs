using System.Globalization;

namespace TokenClient.Endpoint;

/// <summary>The <c>error.type</c> tag of a failed acquisition, from a bounded set.</summary>
internal static class ErrorType
{
    /// <summary>
    /// The <c>error.type</c> of a failure: a known error code, else <c>_OTHER</c> for an unknown one; with
    /// no code, the HTTP status (100 to 599); with no status, the type name of the underlying exception.
    /// </summary>
    public static string Of(TokenRequestException failure) => failure switch
    {
        { Error: { } code } => OAuthErrors.IsKnown(code) ? code : "_OTHER",
        { StatusCode: { } status } when (int)status is >= 100 and <= 599 => ((int)status).ToString(CultureInfo.InvariantCulture),
        { StatusCode: not null } => "_OTHER",
        _ => (failure.InnerException ?? failure).GetType().Name,
    };
}
