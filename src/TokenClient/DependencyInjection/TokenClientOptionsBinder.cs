using Microsoft.Extensions.Configuration;
using TokenClient.Configuration;

namespace TokenClient.DependencyInjection;

/// <summary>
/// Binds a client's configuration section by hand, from the table of keys (<see cref="OptionKeys"/>):
/// trimming- and AOT-safe without the binder's source generator (whose 8.0 interceptors the .NET 10
/// compiler refuses). A bad value, an unknown key or an empty section is noted on the options, naming its
/// configuration path (never the value), and start-up validation reports every one of them with the rest.
/// </summary>
internal static class TokenClientOptionsBinder
{
    public static void Bind(IConfiguration configuration, TokenClientOptions options)
    {
        var sections = configuration.GetChildren().ToList();
        if (sections.Count == 0)
        {
            // A mistyped section path: say so, rather than report every key it should have held as missing.
            options.ConfigurationIsEmpty = true;
            options.ConfigurationProblems.Add(configuration is IConfigurationSection section
                ? $"configuration section '{section.Path}' is empty or missing."
                : "the configuration given is empty.");
            return;
        }

        foreach (var section in sections)
        {
            if (!OptionKeys.All.TryGetValue(section.Key, out var key))
            {
                options.ConfigurationProblems.Add(OptionParsers.Invalid(section, $"is not a token client key; the keys are {string.Join(", ", OptionKeys.All.Keys)}").Message);
                continue;
            }

            // An empty section (a key with no value and no children) leaves the default in place.
            if (section.Value is not null || section.GetChildren().Any())
            {
                try
                {
                    key.Bind(options, section);
                }
                catch (InvalidOperationException ex)
                {
                    options.ConfigurationProblems.Add(ex.Message); // the default stays; the problem is reported at start-up
                }
            }
        }
    }
}
