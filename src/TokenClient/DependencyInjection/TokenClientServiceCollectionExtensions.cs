using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TokenClient;
using TokenClient.Clients;
using TokenClient.Credentials;
using TokenClient.DependencyInjection;
using TokenClient.Diagnostics;
using TokenClient.Endpoint;
using TokenClient.Http;
using TokenClient.Providers;
using TokenClient.Sharing;

// As the ecosystem does: registration extensions live in the namespace of IServiceCollection.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers token clients.</summary>
public static class TokenClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers the token client <paramref name="name"/>, configured in code. Resolve it as the keyed
    /// service <see cref="ITokenClient"/> of that name, or through <see cref="ITokenClientFactory"/>.
    /// </summary>
    /// <returns>A builder to configure the client further, such as the HTTP client of its token endpoint.</returns>
    public static ITokenClientBuilder AddTokenClient(this IServiceCollection services, string name, Action<TokenClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = AddTokenClientCore(services, name);
        services.Configure(name, configure);
        return builder;
    }

    /// <summary>
    /// Registers the token client <paramref name="name"/>, bound to a configuration section whose keys are
    /// the <see cref="TokenClientOptions"/> property names, such as <c>TokenClients:backoffice</c>.
    /// </summary>
    /// <returns>A builder to configure the client further, such as the HTTP client of its token endpoint.</returns>
    public static ITokenClientBuilder AddTokenClient(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = AddTokenClientCore(services, name);
        services.Configure<TokenClientOptions>(name, options => TokenClientOptionsBinder.Bind(configuration, options));
        services.AddSingleton<IOptionsChangeTokenSource<TokenClientOptions>>(new ConfigurationChangeTokenSource<TokenClientOptions>(name, configuration));
        return builder;
    }

    /// <summary>Registers one token client per child section of <paramref name="configuration"/>, named after the section.</summary>
    public static IServiceCollection AddTokenClients(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var section in configuration.GetChildren())
        {
            services.AddTokenClient(section.Key, section);
        }

        return services;
    }

    /// <summary>
    /// Adds a provider of the user's own (a wire format TokenClient does not know), chosen by a client's <c>Provider</c> key
    /// as <see cref="TokenProvider.Name"/> says.
    /// </summary>
    public static IServiceCollection AddTokenProvider(this IServiceCollection services, TokenProvider provider)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(provider);
        services.AddSingleton(provider);
        return services;
    }

    /// <summary>With mutual TLS (<see cref="ClientAuthentication.Tls"/>): the client's certificate on the primary handler being built.</summary>
    internal static void PresentClientCertificate(HttpMessageHandlerBuilder builder, string clientName)
    {
        if (builder.Services.GetRequiredService<TokenClientFactory>().Named(clientName).Definition.ClientCertificate is { } certificate)
        {
            ClientCertificates.Apply(builder, certificate);
        }
    }

    /// <summary>
    /// The factory of the clients and what it needs. The factory validates every client and the registrations as a whole
    /// (names registered twice, handlers' names) when it is built, and start-up validation builds it.
    /// </summary>
    internal static void AddFactory(IServiceCollection services)
    {
        services.TryAddSingleton(static sp => new ProviderCatalog(sp.GetServices<TokenProvider>()));
        services.AddOptions<TokenClientStartupCheck>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenClientStartupCheck>, TokenClientStartupValidator>(static sp => new TokenClientStartupValidator(sp)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenClientOptions>, TokenClientOptionsValidator>());
        // The meter comes from the container's IMeterFactory (AddMetrics adds the default one if there is none).
        services.AddMetrics();
        // Built by hand, not by reflection over their constructors: a serverless function pays for the reflection on every cold start.
        services.TryAddSingleton(static sp => new TokenClientMetrics(sp.GetRequiredService<IMeterFactory>()));
        services.TryAddSingleton(static sp => new TokenClientFactory(
            sp.GetRequiredService<IOptionsFactory<TokenClientOptions>>(),
            sp.GetServices<IOptionsChangeTokenSource<TokenClientOptions>>(),
            new TokenClientRegistry(sp.GetServices<TokenClientRegistration>()),
            Runtime(sp)));
        services.TryAddSingleton<ITokenClientFactory>(sp => sp.GetRequiredService<TokenClientFactory>());
    }

    // What the clients take from the container, resolved here and nowhere below: the keyed assertion provider of a client
    // and the shared cache only when a client asks (the validator made sure that a client that shares has a cache).
    private static ClientRuntime Runtime(IServiceProvider sp)
    {
        var time = sp.GetService<TimeProvider>() ?? TimeProvider.System;
        return new ClientRuntime(
            sp.GetRequiredService<IHttpClientFactory>(),
            time,
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            sp.GetRequiredService<TokenClientMetrics>(),
            sp.GetRequiredService<ProviderCatalog>(),
            name => sp.GetKeyedService<IClientAssertionProvider>(name),
            logger => new SharedTokenStore(sp.GetRequiredService<IDistributedCache>(), sp.GetService<ISharedTokenLock>(), sp.GetService<IDataProtectionProvider>(), time, logger));
    }

    private static TokenClientBuilder AddTokenClientCore(IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var httpClientName = TokenEndpointTransport.HttpClientNameOf(name);
        // Without IHttpClientFactory's own request logging: a failure it logs may quote what the server sent
        // (an invalid header line echoing the request, secret included), before TokenClient can redact it.
        // TokenClient logs every token request itself.
        var httpClient = services.AddHttpClient(httpClientName).RemoveAllLoggers();

        // After every Configure (ConfigurePrimaryHttpMessageHandler, ConfigureHttpClientDefaults): whatever primary
        // handler the user chose, the token request never follows a redirect.
        services.PostConfigure<HttpClientFactoryOptions>(httpClientName, o =>
        {
            o.HttpMessageHandlerBuilderActions.Add(Redirects.TurnOffForTokenEndpoint);
            o.HttpMessageHandlerBuilderActions.Add(builder => PresentClientCertificate(builder, name));
        });
        // Validated at start-up with every other client: one exception for all.
        services.AddSingleton(new TokenClientRegistration(name, ByHandler: false));
        AddFactory(services);
        services.TryAddKeyedSingleton<ITokenClient>(name, static (sp, key) => sp.GetRequiredService<TokenClientFactory>().GetClient((string)key!));
        return new TokenClientBuilder(name, services, httpClient);
    }
}
