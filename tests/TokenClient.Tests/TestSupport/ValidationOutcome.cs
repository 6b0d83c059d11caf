using Microsoft.Extensions.Options;

namespace TokenClient.Tests.TestSupport;

internal static class ValidationOutcome
{
    /// <summary>The validation failures the call throws, or null when it throws none.</summary>
    public static IEnumerable<string>? Try(this Func<TokenClientOptions> act)
    {
        try
        {
            act();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return ex.Failures;
        }
    }
}
