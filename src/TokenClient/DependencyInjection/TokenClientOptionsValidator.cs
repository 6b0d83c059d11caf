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
    private static readonly TokenClientOptionsRanges s_ranges = new();

    public ValidateOptionsResult Validate(string? name, TokenClientOptions options)
    {
        // Binding's problems first; an empty section alone, since every key it should have held would be reported missing.
        var hasAssertionProvider = registrations is IServiceProviderIsKeyedService keyed && keyed.IsKeyedService(typeof(IClientAssertionProvider), name);
        List<string>? failures = null;
        Add(ref failures, name, options.ConfigurationProblems);
        if (!options.ConfigurationIsEmpty)
        {
            Add(ref failures, name, Problems(options, hasAssertionProvider, providers));
        }

        Add(ref failures, name, SharedCacheValidator.Problems(options, registrations));
        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Every problem, named with its client; no list at all when there is none (a cold start validates every client once).
    private static void Add(ref List<string>? failures, string? name, IEnumerable<string> problems)
    {
        foreach (var problem in problems)
        {
            (failures ??= []).Add($"Token client '{name}': {problem}");
        }
    }

    // private_key_jwt and mutual TLS: a provider whose endpoint takes them, and a key or certificate that loads (unless the
    // user's IClientAssertionProvider signs).
    private static IEnumerable<string> CredentialProblems(TokenClientOptions options, ProviderShaper shaper, bool hasAssertionProvider)
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

    // The ranges of single keys are declared on the options (TokenClientOptionsRanges); here, what spans keys, and the null
    // prefix (the ranges check values, not their presence).
    private static IEnumerable<string> RangeProblems(TokenClientOptions o)
    {
        // Without the name: the messages name the key (OptionRangeAttribute), and the client's name is prefixed to every
        // problem below, so the validator's display names (one string per key) would be built for nothing.
        if (s_ranges.Validate(null, o) is { Failed: true, Failures: { } failures })
        {
            foreach (var failure in failures)
            {
                yield return failure;
            }
        }

        if (o.TotalTimeout < o.AttemptTimeout && o.TotalTimeout >= Timeouts.Min && o.TotalTimeout <= Timeouts.Max)
        {
            yield return $"TotalTimeout ({o.TotalTimeout}) must not be shorter than AttemptTimeout ({o.AttemptTimeout}).";
        }

        if (o.SharedCacheKeyPrefix is null)
        {
            yield return "SharedCacheKeyPrefix must not be null (it may be empty).";
        }
    }

    private static IEnumerable<string> Problems(TokenClientOptions options, bool hasAssertionProvider, ProviderCatalog providers)
    {
        var settings = RequestSettings.From(options);
        if (ClientDefinition.Resolve(options, settings, providers) is not var (shaper, resolved))
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

        foreach (var problem in RangeProblems(options))
        {
            yield return problem;
        }

        if (!Enum.IsDefined(options.ClientAuthentication))
        {
            yield return $"ClientAuthentication '{options.ClientAuthentication}' is not known; use Basic, Body, PrivateKeyJwt or Tls.";
        }

        foreach (var header in options.Headers.Keys)
        {
            if (string.IsNullOrWhiteSpace(header) || header.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                yield return $"Headers cannot set '{header}': the handler sets Authorization itself.";
            }
        }

        foreach (var key in OptionKeys.SentByProvider)
        {
            if (!string.IsNullOrEmpty(key.SentValue!(options)) && !shaper.UsedKeys.Contains(key))
            {
                yield return $"{key.Name} is not used when Provider is '{shaper.Name}'; remove it (extra token request fields go in Parameters).";
            }
        }

        foreach (var problem in shaper.Validate(settings))
        {
            yield return problem;
        }
    }
}
