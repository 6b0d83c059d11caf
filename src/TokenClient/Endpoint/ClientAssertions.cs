using System.Security.Cryptography;
using TokenClient.Credentials;

namespace TokenClient.Endpoint;

/// <summary>
/// Where a <see cref="ClientAuthentication.PrivateKeyJwt"/> client's assertions come from: the user's
/// <see cref="IClientAssertionProvider"/> when one is registered for the client, else the configured signing key.
/// One new assertion per attempt: a retry never replays the assertion of the attempt before it.
/// </summary>
internal sealed class ClientAssertions(ClientAssertionSigner? signer, IClientAssertionProvider? provider, TimeProvider time)
{
    public async ValueTask<string> CreateAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var clientId = context.Settings.ClientId!;
        var audience = context.Endpoint.AbsoluteUri;
        string assertion;
        if (provider is null)
        {
            try
            {
                assertion = signer!.Sign(clientId, audience, time.GetUtcNow());
            }
            catch (CryptographicException ex)
            {
                throw TokenErrors.AssertionFailed(context, ex, "could not sign a client assertion with its SigningKey");
            }
        }
        else
        {
            try
            {
                assertion = await provider.CreateAssertionAsync(new ClientAssertionContext(context.ClientName, clientId, audience, context.Tenant), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not TokenRequestException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                throw TokenErrors.AssertionFailed(context, ex, "could not get a client assertion from its IClientAssertionProvider");
            }

            if (string.IsNullOrWhiteSpace(assertion))
            {
                throw TokenErrors.AssertionFailed(context, new InvalidOperationException("it returned no assertion"), "could not get a client assertion from its IClientAssertionProvider");
            }
        }

        // Kept out of every message, as a secret is: an assertion is a credential until it expires.
        context.Secrets.RememberSent(assertion);
        return assertion;
    }
}
