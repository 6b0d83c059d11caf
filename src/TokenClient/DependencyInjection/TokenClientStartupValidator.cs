using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Clients;

namespace TokenClient.DependencyInjection;

/// <summary>What <c>ValidateOnStart</c> validates at start-up: nothing of its own, it stands for the token clients.</summary>
internal sealed class TokenClientStartupCheck;

/// <summary>
/// Start-up validation (<c>ValidateOnStart</c>): builds the token client factory, which checks every client at once
/// (<see cref="TokenClientRegistry.Validate"/>) and keeps the options it validated for the clients it builds.
/// </summary>
internal sealed class TokenClientStartupValidator(IServiceProvider services) : IValidateOptions<TokenClientStartupCheck>
{
    public ValidateOptionsResult Validate(string? name, TokenClientStartupCheck options)
    {
        _ = services.GetRequiredService<TokenClientFactory>(); // throws TokenClientConfigurationException, one problem per line
        return ValidateOptionsResult.Success;
    }
}
