using Microsoft.Extensions.Logging;
using TokenClient.Caching;
using TokenClient.Providers;

namespace TokenClient.Clients;

/// <summary>The container's services that every client's entries use.</summary>
internal sealed class ClientRuntime(IHttpClientFactory httpClientFactory, TimeProvider time, ILoggerFactory loggerFactory)
{
    public TimeProvider Time { get; } = time;

    public ILogger CacheLogger { get; } = loggerFactory.CreateLogger<CachingTokenClient>();

    public ILogger FactoryLogger { get; } = loggerFactory.CreateLogger<TokenClientFactory>();

    public ILogger EndpointLogger { get; } = loggerFactory.CreateLogger<TokenEndpointClient>();

    /// <summary>The token requests of one tenant under one definition.</summary>
    public TokenEndpointClient EndpointClient(ClientDefinition definition, string? tenant, TokenEndpointClient? carryFrom = null) =>
        new(definition.ContextFor(tenant), definition.Shaper, definition.Pipeline, httpClientFactory, definition.HttpClientName, Time, EndpointLogger, carryFrom);
}
