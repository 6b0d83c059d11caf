using Microsoft.Extensions.Configuration;
using TokenClient.Providers;

namespace TokenClient.DependencyInjection;

/// <summary>
/// Binds a client's configuration section by hand, from the table of keys (<see cref="OptionKeys"/>):
/// trimming- and AOT-safe without the binder's source generator (whose 8.0 interceptors the .NET 10
/// compiler refuses), and every bad value or unknown key fails with a message that names its configuration path.
/// </summary>
internal static class TokenClientOptionsBinder
{
    public static void Bind(IConfiguration configuration, TokenClientOptions options)
    {
        foreach (var section in configuration.GetChildren())
        {
            if (!OptionKeys.All.TryGetValue(section.Key, out var key))
            {
                throw OptionKeys.Invalid(section, $"is not a token client key; the keys are {string.Join(", ", OptionKeys.All.Keys)}");
            }

            // An empty section (a key with no value and no children) leaves the default in place.
            if (section.Value is not null || section.GetChildren().Any())
            {
                key.Bind(options, section);
            }
        }
    }
}
