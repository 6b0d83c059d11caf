using Microsoft.Extensions.Http;
using TokenClient.Http;

namespace TokenClient.Endpoint;

/// <summary>
/// Turns off redirects on the primary handler of a token endpoint's <see cref="HttpClient"/>, whichever
/// handler the user configured: run last among the client's handler-builder actions.
/// </summary>
internal static class RedirectsOff
{
    public static void Apply(HttpMessageHandlerBuilder builder)
    {
        try
        {
            Redirects.TurnOff(builder.PrimaryHandler);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                $"The HttpClient '{builder.Name}' of a token client follows redirects, and its primary handler has already sent requests, so TokenClient cannot turn that off. Give it a new handler per call, or set AllowAutoRedirect = false on it: a token request must never follow a redirect.",
                ex);
        }
    }
}
