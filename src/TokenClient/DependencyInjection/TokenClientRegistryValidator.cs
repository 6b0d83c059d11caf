using Microsoft.Extensions.Options;
using TokenClient.Clients;
using TokenClient.Providers;

namespace TokenClient.DependencyInjection;

/// <summary>
/// The start-up check of every token client at once: the registrations as a whole (each name once, every handler's
/// name registered), then each client's configuration. All the problems of all the clients come out in one
/// <see cref="OptionsValidationException"/>, one per line, rather than the first client's alone or an
/// <see cref="AggregateException"/> of one exception per client.
/// </summary>
internal sealed class TokenClientRegistryValidator(IOptionsFactory<TokenClientOptions> clients, ProviderCatalog providers) : IValidateOptions<TokenClientRegistry>
{
    public ValidateOptionsResult Validate(string? name, TokenClientRegistry options)
    {
        var problems = options.Problems().Concat(providers.Problems).ToList();
        foreach (var client in options.Names)
        {
            try
            {
                options.Validated(client, clients.Create(client));
            }
            catch (OptionsValidationException invalid)
            {
                problems.AddRange(invalid.Failures);
            }
        }

        // Thrown rather than returned: the options framework would join the problems on one line.
        return problems.Count == 0 ? ValidateOptionsResult.Success : throw new TokenClientConfigurationException(problems);
    }
}

/// <summary>The start-up failure of the token clients' configuration, with one problem per line of its message.</summary>
internal sealed class TokenClientConfigurationException(IReadOnlyList<string> failures)
    : OptionsValidationException(Options.DefaultName, typeof(TokenClientOptions), failures)
{
    public override string Message => failures.Count == 1
        ? failures[0]
        : $"The token clients' configuration has {failures.Count} problems:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}";
}
