using Microsoft.Extensions.DependencyInjection;

namespace TokenClient.DependencyInjection;

internal sealed record TokenClientBuilder(string Name, IServiceCollection Services) : ITokenClientBuilder;
