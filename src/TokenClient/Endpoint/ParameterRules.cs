using TokenClient.Configuration;

namespace TokenClient.Endpoint;

/// <summary>
/// What a call's <see cref="TokenRequestParameters"/> may ask of a provider, checked once per cache entry (when the
/// first call with them comes): a value the provider cannot send, or a field the library sends itself, is refused at the
/// call, naming the parameter, rather than dropped or let through to replace the grant or the credentials.
/// </summary>
internal static class ParameterRules
{
    // The fields the library writes itself: a caller's field of these names would replace the grant or the credentials.
    private static readonly HashSet<string> s_reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "assertion",
        "username", "password", "refresh_token", "scope", "audience", "resource",
    };

    /// <summary>The first problem of the parameters for this provider, as a message naming the parameter; null where none.</summary>
    public static string? Problem(ProviderShaper shaper, TokenRequestParameters parameters)
    {
        if (Unsent(shaper, OptionKeys.Scope, nameof(TokenRequestParameters.Scope), parameters.Scope is not null) is { } scope)
        {
            return scope;
        }

        if (Unsent(shaper, OptionKeys.Audience, nameof(TokenRequestParameters.Audience), parameters.Audience is not null) is { } audience)
        {
            return audience;
        }

        if (Unsent(shaper, OptionKeys.Resource, nameof(TokenRequestParameters.Resources), parameters.Resources is not null) is { } resources)
        {
            return resources;
        }

        if (parameters.Scope is { Length: 0 } || parameters.Audience is { Length: 0 })
        {
            return $"TokenRequestParameters.{(parameters.Scope is { Length: 0 } ? nameof(TokenRequestParameters.Scope) : nameof(TokenRequestParameters.Audience))} is empty: leave it null for the configured value.";
        }

        for (var i = 0; i < (parameters.Resources?.Count ?? 0); i++)
        {
            var resource = parameters.Resources![i];
            if (!Uri.TryCreate(resource, UriKind.Absolute, out var uri) || uri.Fragment.Length > 0)
            {
                return $"TokenRequestParameters.Resources[{i}] is not an absolute URI without a fragment (RFC 8707 section 2).";
            }
        }

        foreach (var (name, value) in parameters.SortedParameters)
        {
            if (string.IsNullOrWhiteSpace(name) || value is null)
            {
                return "TokenRequestParameters.Parameters has a field with no name or no value.";
            }

            if (s_reserved.Contains(name))
            {
                return $"TokenRequestParameters.Parameters names '{name}', a field TokenClient sends itself: " +
                    "use TokenRequestParameters.Scope, Resources or Audience for those, and the client's configuration for the grant and the credentials.";
            }
        }

        return null;
    }

    private static string? Unsent(ProviderShaper shaper, OptionKey key, string parameter, bool given) =>
        given && !shaper.UsedKeys.Contains(key)
            ? $"TokenRequestParameters.{parameter} cannot be sent: Provider '{shaper.Name}' has no {key.Name} in its token request."
            : null;
}
