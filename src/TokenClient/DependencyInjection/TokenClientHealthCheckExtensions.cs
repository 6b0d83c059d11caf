using Microsoft.Extensions.Diagnostics.HealthChecks;
using TokenClient.Clients;

// As the ecosystem does: registration extensions live in the namespace of IServiceCollection.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the health check of the token clients.</summary>
public static class TokenClientHealthCheckExtensions
{
    /// <summary>
    /// Adds one health check, named <paramref name="name"/>, that reports every registered token client from what
    /// its cache holds, without a token request per probe: Healthy while a valid token is held (or none was asked
    /// for yet), Degraded while renewals fail but the token is still valid, Unhealthy when no valid token is held
    /// and the last request failed (its time and message in the description).
    /// </summary>
    public static IHealthChecksBuilder AddTokenClientHealthChecks(this IServiceCollection services, string name = "tokenclient", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return services.AddHealthChecks().Add(new HealthCheckRegistration(
            name,
            sp => ActivatorUtilities.CreateInstance<TokenClientHealthCheck>(sp),
            failureStatus: null,
            tags));
    }
}
