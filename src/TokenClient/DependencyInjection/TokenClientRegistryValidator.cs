using Microsoft.Extensions.Options;
using TokenClient.Clients;

namespace TokenClient.DependencyInjection;

/// <summary>Checks the registrations as a whole at start-up: each name once, and every handler's name registered.</summary>
internal sealed class TokenClientRegistryValidator : IValidateOptions<TokenClientRegistry>
{
    public ValidateOptionsResult Validate(string? name, TokenClientRegistry options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
