using Microsoft.Extensions.DependencyInjection;

namespace TokenClient.DependencyInjection;

/// <param name="Name">The token client's name.</param>
/// <param name="Services">The container's registrations.</param>
/// <param name="TokenEndpointHttpClient">
/// The <see cref="IHttpClientFactory"/> client of its token endpoint, as registered: configuring it again through this builder
/// costs nothing, where another <c>AddHttpClient</c> call would register IHttpClientFactory's services over again.
/// </param>
internal sealed record TokenClientBuilder(string Name, IServiceCollection Services, IHttpClientBuilder TokenEndpointHttpClient) : ITokenClientBuilder;
