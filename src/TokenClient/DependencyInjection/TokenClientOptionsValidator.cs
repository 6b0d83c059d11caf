using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Clients;
using TokenClient.Configuration;
using TokenClient.Credentials;
using TokenClient.Endpoint;
using TokenClient.Providers;

namespace TokenClient.DependencyInjection;

/// <summary>Checks a client's configuration at start-up; every message names the client and the key.</summary>
internal sealed class TokenClientOptionsValidator(IServiceProviderIsService registrations, ProviderCatalog providers) : IValidateOptions<TokenClientOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenClientOptions options)
    {
        // Binding's problems first; an empty section alone, since every key it should have held would be reported missing.
        var hasAssertionProvider = registrations is IServiceProviderIsKeyedService keyed && keyed.IsKeyedService(typeof(IClientAssertionProvider), name);
        var problems = (options.ConfigurationIsEmpty ? options.ConfigurationProblems : options.ConfigurationProblems.Concat(Problems(options, hasAssertionProvider, providers)))
            .Concat(SharedCacheValidator.Problems(options, registrations));
        var failures = problems.Select(problem => $"Token client '{name}': {problem}").ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // private_key_jwt and mutual TLS: a provider whose endpoint takes them, and a key or certificate that loads (unless the
    // user's IClientAssertionProvider signs).
    private static IEnumerable<string> CredentialProblems(TokenClientOptions options, TokenRequestShaper shaper, bool hasAssertionProvider)
    {
        if (!shaper.TakesStandardClientAuthentication)
        {
            yield return $"ClientAuthentication '{options.ClientAuthentication}' is not supported when Provider is '{shaper.Name}': its token endpoint takes a client secret.";
            yield break;
        }

        Action? load = options.ClientAuthentication == ClientAuthentication.Tls ? () => ClientCertificates.Load(options.ClientCertificate)
            : hasAssertionProvider ? null
            : () => ClientAssertionSigner.Load(options.SigningKey);
        if (load is not null && ProblemOf(load) is { } problem)
        {
            yield return problem;
        }
    }

    private static string? ProblemOf(Action load)
    {
        try
        {
            load();
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
    }

    // The ranges Polly accepts, checked here so that the message names our key.
    private static IEnumerable<string> ResilienceProblems(TokenClientOptions o)
    {
        var minTimeout = TimeSpan.FromMilliseconds(10);
        var maxTimeout = TimeSpan.FromDays(1);
        if (o.MaxRetries is < 0 or > 100)
        {
            yield return $"MaxRetries must be from 0 to 100, not {o.MaxRetries}.";
        }

        if (o.RetryDelay < TimeSpan.Zero || o.RetryDelay > maxTimeout)
        {
            yield return $"RetryDelay must be from 00:00:00 to 1.00:00:00, not {o.RetryDelay}.";
        }

        if (o.MaxRetryDelay <= TimeSpan.Zero || o.MaxRetryDelay > maxTimeout)
        {
            yield return $"MaxRetryDelay must be positive and at most 1.00:00:00, not {o.MaxRetryDelay}.";
        }

        if (o.AttemptTimeout < minTimeout || o.AttemptTimeout > maxTimeout)
        {
            yield return $"AttemptTimeout must be from 00:00:00.010 to 1.00:00:00, not {o.AttemptTimeout}.";
        }

        if (o.TotalTimeout < minTimeout || o.TotalTimeout > maxTimeout)
        {
            yield return $"TotalTimeout must be from 00:00:00.010 to 1.00:00:00, not {o.TotalTimeout}.";
        }
        else if (o.TotalTimeout < o.AttemptTimeout)
        {
            yield return $"TotalTimeout ({o.TotalTimeout}) must not be shorter than AttemptTimeout ({o.AttemptTimeout}).";
        }

        if (o.FailureCooldown < TimeSpan.Zero)
        {
            yield return $"FailureCooldown must not be negative, not {o.FailureCooldown}.";
        }

        if (o.MaxResponseSize <= 0)
        {
            yield return $"MaxResponseSize must be a positive number of bytes, not {o.MaxResponseSize}.";
        }

        if (o.MaxTenants < 1)
        {
            yield return $"MaxTenants must be at least 1, not {o.MaxTenants}.";
        }

        if (o.SharedCacheTimeout < minTimeout || o.SharedCacheTimeout > TimeSpan.FromMinutes(1))
        {
            yield return $"SharedCacheTimeout must be from 00:00:00.010 to 00:01:00, not {o.SharedCacheTimeout}.";
        }

        if (o.SharedCacheKeyPrefix is null)
        {
            yield return "SharedCacheKeyPrefix must not be null (it may be empty).";
        }
    }

    private static IEnumerable<string> Problems(TokenClientOptions options, bool hasAssertionProvider, ProviderCatalog providers)
    {
        if (ClientDefinition.Resolve(options, providers) is not var (shaper, resolved))
        {
            yield return $"Provider '{options.Provider}' is not known; use one of {string.Join(", ", providers.Names)} (or add it with services.AddTokenProvider).";
            yield break;
        }

        if (options.Authority is { } authority)
        {
            if (options.TokenEndpoint is not null)
            {
                yield return "Authority and TokenEndpoint are both set; set one: the Authority's metadata names its token endpoint.";
            }
            else if (!shaper.TakesAuthority)
            {
                yield return $"Authority is not used when Provider is '{shaper.Name}': its token endpoint is fixed; remove it.";
            }
            else if (!authority.IsAbsoluteUri)
            {
                yield return $"Authority '{authority}' must be an absolute URI.";
            }
            else if (!Origins.IsHttpsOrLoopback(authority))
            {
                yield return $"Authority '{authority.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}' must use https (plain http is allowed only on loopback).";
            }
            else if (!string.IsNullOrEmpty(authority.UserInfo))
            {
                yield return $"Authority '{authority.Scheme}://{authority.Authority}{authority.AbsolutePath}' must not carry user information: it is an issuer identifier.";
            }
            else if (!string.IsNullOrEmpty(authority.Query) || !string.IsNullOrEmpty(authority.Fragment))
            {
                yield return $"Authority '{authority.GetLeftPart(UriPartial.Path)}' must have no query or fragment: it is an issuer identifier.";
            }
        }

        if (options.TokenEndpoint is { } endpoint)
        {
            if (!endpoint.IsAbsoluteUri)
            {
                yield return $"TokenEndpoint '{endpoint}' must be an absolute URI.";
            }
            else if (!Origins.IsHttpsOrLoopback(endpoint))
            {
                yield return $"TokenEndpoint '{endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}' must use https (plain http is allowed only on loopback).";
            }
            else if (!string.IsNullOrEmpty(endpoint.UserInfo))
            {
                // Named without it: the user information of a URI is often a password.
                yield return $"TokenEndpoint '{endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}' must not carry user information (user:password@): give the credentials as ClientId and ClientSecret.";
            }
        }
        else if (resolved is null)
        {
            yield return shaper.MissingEndpointProblem;
        }

        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            yield return "ClientId is required.";
        }

        if (options.ClientAuthentication is ClientAuthentication.PrivateKeyJwt or ClientAuthentication.Tls)
        {
            foreach (var problem in CredentialProblems(options, shaper, hasAssertionProvider))
            {
                yield return problem;
            }
        }
        else if (string.IsNullOrEmpty(options.ClientSecret))
        {
            yield return "ClientSecret is required.";
        }

        if (options.Dpop && !shaper.TakesStandardClientAuthentication)
        {
            yield return $"Dpop is not supported when Provider is '{shaper.Name}': its token endpoint does not take DPoP proofs (Generic and Login3 do).";
        }

        if (options.Dpop && options.SharedCache)
        {
            yield return "Dpop and SharedCache cannot both be on: a DPoP token is bound to a key that never leaves this instance, so no other instance could use it.";
        }

        if (!(options.RefreshRatio > 0 && options.RefreshRatio < 1))
        {
            yield return $"RefreshRatio must be greater than 0 and less than 1, not {options.RefreshRatio.ToString(CultureInfo.InvariantCulture)}.";
        }

        if (options.DefaultLifetime < OAuthResponseReader.MinLifetime || options.DefaultLifetime > OAuthResponseReader.MaxLifetime)
        {
            yield return $"DefaultLifetime must be from {OAuthResponseReader.MinLifetime} to {OAuthResponseReader.MaxLifetime}, the shortest and longest lifetimes a token may have, not {options.DefaultLifetime}.";
        }

        foreach (var problem in ResilienceProblems(options))
        {
            yield return problem;
        }

        if (!Enum.IsDefined(options.ClientAuthentication))
        {
            yield return $"ClientAuthentication '{options.ClientAuthentication}' is not known; use Basic, Body, PrivateKeyJwt or Tls.";
        }

        foreach (var header in options.Headers.Keys.Where(h => string.IsNullOrWhiteSpace(h) || h.Equals("Authorization", StringComparison.OrdinalIgnoreCase)))
        {
            yield return $"Headers cannot set '{header}': the handler sets Authorization itself.";
        }

        foreach (var key in OptionKeys.SentByProvider)
        {
            if (!string.IsNullOrEmpty(key.SentValue!(options)) && !shaper.UsedKeys.Contains(key))
            {
                yield return $"{key.Name} is not used when Provider is '{shaper.Name}'; remove it (extra token request fields go in Parameters).";
            }
        }

        foreach (var problem in shaper.Validate(options))
        {
            yield return problem;
        }
    }
}
