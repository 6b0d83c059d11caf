using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace TokenClient.DependencyInjection;

/// <summary>
/// Binds a client's configuration section by hand: trimming- and AOT-safe without the binder's
/// source generator (whose 8.0 interceptors the .NET 10 compiler refuses), and every bad value or
/// unknown key fails with a message that names its configuration path.
/// </summary>
internal static class TokenClientOptionsBinder
{
    private static readonly Dictionary<string, Action<TokenClientOptions, IConfigurationSection>> s_keys = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(TokenClientOptions.Provider)] = (o, s) => o.Provider = s.Value!,
        [nameof(TokenClientOptions.TokenEndpoint)] = (o, s) => o.TokenEndpoint = ParseUri(s),
        [nameof(TokenClientOptions.ClientId)] = (o, s) => o.ClientId = s.Value,
        [nameof(TokenClientOptions.ClientSecret)] = (o, s) => o.ClientSecret = s.Value,
        [nameof(TokenClientOptions.Scope)] = (o, s) => o.Scope = s.Value,
        [nameof(TokenClientOptions.Audience)] = (o, s) => o.Audience = s.Value,
        [nameof(TokenClientOptions.Resource)] = (o, s) => o.Resource = s.Value,
        [nameof(TokenClientOptions.ClientAuthentication)] = (o, s) => o.ClientAuthentication = ParseEnum<ClientAuthentication>(s),
        [nameof(TokenClientOptions.Tenant)] = (o, s) => o.Tenant = s.Value,
        [nameof(TokenClientOptions.Region)] = (o, s) => o.Region = ParseEnum<WllRegion>(s),
        [nameof(TokenClientOptions.Environment)] = (o, s) => o.Environment = ParseEnum<WllEnvironment>(s),
        [nameof(TokenClientOptions.Domain)] = (o, s) => o.Domain = s.Value,
        [nameof(TokenClientOptions.Username)] = (o, s) => o.Username = s.Value,
        [nameof(TokenClientOptions.Password)] = (o, s) => o.Password = s.Value,
        [nameof(TokenClientOptions.RefreshRatio)] = (o, s) => o.RefreshRatio = ParseDouble(s),
        [nameof(TokenClientOptions.DefaultLifetime)] = (o, s) => o.DefaultLifetime = ParseTimeSpan(s),
        [nameof(TokenClientOptions.MaxRetries)] = (o, s) => o.MaxRetries = ParseInt(s),
        [nameof(TokenClientOptions.RetryDelay)] = (o, s) => o.RetryDelay = ParseTimeSpan(s),
        [nameof(TokenClientOptions.MaxRetryDelay)] = (o, s) => o.MaxRetryDelay = ParseTimeSpan(s),
        [nameof(TokenClientOptions.AttemptTimeout)] = (o, s) => o.AttemptTimeout = ParseTimeSpan(s),
        [nameof(TokenClientOptions.TotalTimeout)] = (o, s) => o.TotalTimeout = ParseTimeSpan(s),
        [nameof(TokenClientOptions.FailureCooldown)] = (o, s) => o.FailureCooldown = ParseTimeSpan(s),
        [nameof(TokenClientOptions.MaxResponseSize)] = (o, s) => o.MaxResponseSize = ParseInt(s),
        [nameof(TokenClientOptions.MaxTenants)] = (o, s) => o.MaxTenants = ParseInt(s),
        [nameof(TokenClientOptions.AllowInsecureHttp)] = (o, s) => o.AllowInsecureHttp = ParseBool(s),
        [nameof(TokenClientOptions.Headers)] = (o, s) => BindPairs(o.Headers, s),
        [nameof(TokenClientOptions.Parameters)] = (o, s) => BindPairs(o.Parameters, s),
    };

    public static void Bind(IConfiguration configuration, TokenClientOptions options)
    {
        foreach (var section in configuration.GetChildren())
        {
            if (!s_keys.TryGetValue(section.Key, out var bind))
            {
                throw Invalid(section, $"is not a token client key; the keys are {string.Join(", ", s_keys.Keys)}");
            }

            // An empty section (a key with no value and no children) leaves the default in place.
            if (section.Value is not null || section.GetChildren().Any())
            {
                bind(options, section);
            }
        }
    }

    private static Uri ParseUri(IConfigurationSection section) =>
        Uri.TryCreate(section.Value, UriKind.RelativeOrAbsolute, out var uri) ? uri : throw Invalid(section, "is not a URI");

    private static double ParseDouble(IConfigurationSection section) =>
        double.TryParse(section.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid(section, "is not a number");

    private static bool ParseBool(IConfigurationSection section) =>
        bool.TryParse(section.Value, out var value) ? value : throw Invalid(section, "is not true or false");

    private static int ParseInt(IConfigurationSection section) =>
        int.TryParse(section.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid(section, "is not a whole number");

    private static TimeSpan ParseTimeSpan(IConfigurationSection section) =>
        TimeSpan.TryParse(section.Value, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid(section, "is not a time span such as 00:05:00");

    private static TEnum ParseEnum<TEnum>(IConfigurationSection section)
        where TEnum : struct, Enum =>
        Enum.TryParse<TEnum>(section.Value, ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsAsciiDigit(section.Value![0])
            ? value
            : throw Invalid(section, $"is not one of {string.Join(", ", Enum.GetNames<TEnum>())}");

    private static void BindPairs(IDictionary<string, string> target, IConfigurationSection section)
    {
        foreach (var pair in section.GetChildren())
        {
            target[pair.Key] = pair.Value ?? throw Invalid(pair, "must be a single value");
        }
    }

    // The value itself stays out of the message: it may be a secret.
    private static InvalidOperationException Invalid(IConfigurationSection section, string problem) =>
        new($"Token client configuration '{section.Path}' {problem}.");
}
