
namespace TokenClient.Providers;

/// <summary>
/// Where a <see cref="ClientAuthentication.PrivateKeyJwt"/> client's assertions come from: the user's
/// <see cref="IClientAssertionProvider"/> when one is registered for the client, else the configured signing key.
/// One new assertion per attempt: a retry never replays the assertion of the attempt before it.
/// </summary>
internal sealed class ClientAssertions(ClientAssertionSigner? signer, IClientAssertionProvider? provider, TimeProvider time)
{
    public async ValueTask<string> CreateAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var clientId = context.Options.ClientId!;
        var audience = context.Endpoint.AbsoluteUri;
        string assertion;
        if (provider is null)
        {
            assertion = signer!.Sign(clientId, audience, time.GetUtcNow());
        }
        else
        {
            try
            {
                assertion = await provider.CreateAssertionAsync(new ClientAssertionContext(context.ClientName, clientId, audience, context.Tenant), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not TokenRequestException)
            {
                throw TokenErrors.AssertionFailed(context, ex);
            }

            if (string.IsNullOrWhiteSpace(assertion))
            {
                throw TokenErrors.AssertionFailed(context, new InvalidOperationException("it returned no assertion"));
            }
        }

        // Kept out of every message, as a secret is: an assertion is a credential until it expires.
        context.Secrets.RememberSent(assertion);
        return assertion;
    }
}
