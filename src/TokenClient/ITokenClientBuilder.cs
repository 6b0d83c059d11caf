using Microsoft.Extensions.DependencyInjection;

namespace TokenClient;

/// <summary>What <c>AddTokenClient</c> returns, to configure the client further.</summary>
public interface ITokenClientBuilder
{
    /// <summary>The client's name.</summary>
    string Name { get; }

    /// <summary>The service collection the client is registered in.</summary>
    IServiceCollection Services { get; }
}
