namespace TokenClient;

/// <summary>Gives the <see cref="ITokenClient"/> of a configured client by name.</summary>
public interface ITokenClientFactory
{
    /// <summary>The client registered under <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No client of that name is registered.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The client's configuration is invalid.</exception>
    ITokenClient GetClient(string name);

    /// <summary>
    /// The client registered under <paramref name="name"/>, for one tenant: the same credentials,
    /// with a cache entry of its own per tenant.
    /// </summary>
    /// <exception cref="InvalidOperationException">No client of that name is registered.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The client's configuration is invalid.</exception>
    ITokenClient GetClient(string name, string tenant);
}
