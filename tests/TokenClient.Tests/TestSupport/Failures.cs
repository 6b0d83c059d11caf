namespace TokenClient.Tests.TestSupport;

internal static class Failures
{
    /// <summary>The exception the client's next call fails with; the test fails if it gets a token.</summary>
    public static async Task<TokenRequestException> FailureAsync(this ITokenClient client)
    {
        try
        {
            await client.GetTokenAsync();
        }
        catch (TokenRequestException ex)
        {
            return ex;
        }

        throw new Xunit.Sdk.XunitException("Expected a TokenRequestException, but a token came.");
    }
}
