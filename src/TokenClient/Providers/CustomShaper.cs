using System.Net;
using TokenClient.Caching;
using TokenClient.Configuration;
using TokenClient.Endpoint;
using TokenClient.Http;

namespace TokenClient.Providers;

/// <summary>A user's <see cref="TokenProvider"/> behind the shaper the library runs: its answer is checked as the built-ins' are.</summary>
internal sealed class CustomShaper(TokenProvider provider) : ProviderShaper
{
    public override string Name => provider.Name;

    // Every key a provider may send is the user's to use.
    public override IReadOnlyCollection<OptionKey> UsedKeys { get; } = OptionKeys.SentByProvider.ToArray();

    public override Uri? DefaultEndpoint(RequestSettings settings) => provider.DefaultEndpoint(settings.ProviderOptions);

    public override IEnumerable<string> Validate(RequestSettings settings) => provider.Validate(settings.ProviderOptions);

    public override bool IsTokenRejected(HttpStatusCode status) => provider.IsTokenRejected(status);

    public override HttpRequestMessage CreateRequest(TokenRequestContext context, string? refreshToken)
    {
        HttpRequestMessage? request;
        try
        {
            request = provider.CreateRequest(new TokenProviderRequest(context.ClientName, context.Endpoint, context.Settings.ProviderOptions, context.Tenant, context.Parameters));
        }
        catch (Exception ex) when (ex is not TokenRequestException)
        {
            throw TokenErrors.ProviderFailed(context, Name, "could not build the request", ex);
        }

        // The credentials go to the configured endpoint's origin and nowhere else, whatever the provider's code builds.
        if (request?.RequestUri is not { IsAbsoluteUri: true } target || !Redirects.SameOrigin(target, context.Endpoint))
        {
            request?.Dispose();
            throw TokenErrors.ProviderFailed(context, Name, $"built a request {(request?.RequestUri is { IsAbsoluteUri: true } ? "to another origin than " + context.Endpoint.GetLeftPart(UriPartial.Authority) : "without an absolute URI")}; it was not sent", inner: null);
        }

        return request;
    }

    public override IssuedToken ReadResponse(TokenRequestContext context, in Answer answer)
    {
        var status = answer.Status;
        TokenProviderResponse read;
        try
        {
            var copy = answer; // the lambda below cannot capture an in parameter
            read = provider.ReadResponse(new TokenProviderAnswer(
                status,
                answer.Body,
                () =>
                {
                    var issued = OAuthResponseReader.Read(context, copy);
                    return new TokenProviderResponse(issued.Token.Value, issued.Lifetime, issued.Token.Scope);
                },
                (error, description) => TokenErrors.FromOAuthError(context, status, error, description)));
        }
        catch (TokenRequestException ex)
        {
            throw TokenErrors.Redacted(context, ex); // one the provider made itself: its text is server text like any other
        }
        catch (Exception ex)
        {
            throw TokenErrors.UnreadableResponse(context, status, $"the token provider '{Name}' could not read the answer ({ex.GetType().Name})");
        }

        // The same checks as an RFC 6749 answer: a Bearer token that fits a header, a lifetime within bounds.
        return OAuthResponseReader.Issue(context, answer, read.AccessToken, tokenType: null, read.Lifetime?.TotalSeconds, read.Scope, refreshToken: null);
    }
}
