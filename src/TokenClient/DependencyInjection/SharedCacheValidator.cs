using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace TokenClient.DependencyInjection;

/// <summary>
/// Checks at start-up that a client that shares its tokens has what sharing needs in the container: a
/// distributed cache, and a Data Protection key ring (unless encryption is turned off explicitly). It looks
/// at the registrations only: nothing is resolved, nothing connects.
/// </summary>
/// <remarks>Part of <see cref="TokenClientOptionsValidator"/>: one validator is one service less to resolve on a cold start.</remarks>
internal static class SharedCacheValidator
{
    public static IEnumerable<string> Problems(TokenClientOptions options, IServiceProviderIsService registrations)
    {
        if (!options.SharedCache)
        {
            yield break;
        }

        if (!registrations.IsService(typeof(IDistributedCache)))
        {
            yield return "SharedCache needs an IDistributedCache in the container, and none is registered. " +
                "Register the one the instances share, such as services.AddStackExchangeRedisCache(o => o.Configuration = \"redis:6379\").";
        }

        if (options.SharedCacheProtector is null && !options.AllowInsecureSharedCache && !registrations.IsService(typeof(IDataProtectionProvider)))
        {
            yield return "SharedCache encrypts tokens with ASP.NET Core Data Protection, and none is registered. " +
                "Register it with a key ring that every instance shares and the same application name, such as " +
                "services.AddDataProtection().SetApplicationName(\"my-service\").PersistKeysToStackExchangeRedis(...) " +
                "(package Microsoft.AspNetCore.DataProtection.StackExchangeRedis); or set SharedCacheProtector; " +
                "or, to store tokens unencrypted where anyone who can read the cache can use them, set AllowInsecureSharedCache to true.";
        }
    }
}
