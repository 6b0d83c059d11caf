using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace TokenClient.Configuration;

/// <summary>How a configuration value is read: each parser fails naming the key's configuration path and what it expected.</summary>
internal static class OptionParsers
{
    /// <summary>A configuration error that names the path and never the value, which may be a secret.</summary>
    public static InvalidOperationException Invalid(IConfigurationSection section, string problem) =>
        new($"configuration '{section.Path}' {problem}.");

    public static Uri ParseUri(IConfigurationSection section) =>
        Uri.TryCreate(section.Value, UriKind.RelativeOrAbsolute, out var uri) ? uri : throw Invalid(section, "is not a URI");

    public static double ParseDouble(IConfigurationSection section) =>
        double.TryParse(section.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid(section, "is not a number");

    public static int ParseInt(IConfigurationSection section) =>
        int.TryParse(section.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid(section, "is not a whole number");

    public static bool ParseBool(IConfigurationSection section) =>
        bool.TryParse(section.Value, out var value) ? value : throw Invalid(section, "is not true or false");

    public static TimeSpan ParseTimeSpan(IConfigurationSection section) =>
        TimeSpan.TryParse(section.Value, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid(section, "is not a time span such as 00:05:00");

    public static TEnum ParseEnum<TEnum>(IConfigurationSection section)
        where TEnum : struct, Enum =>
        Enum.TryParse<TEnum>(section.Value, ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsAsciiDigit(section.Value![0])
            ? value
            : throw Invalid(section, $"is not one of {string.Join(", ", Enum.GetNames<TEnum>())}");

    // A key with settings of its own (SigningKey:Path, ClientCertificate:Password): a setting it does not have is named.
    public static void BindNested<T>(T target, IConfigurationSection section, Dictionary<string, Action<T, string?>> parts)
    {
        var unknown = new List<IConfigurationSection>();
        foreach (var part in section.GetChildren())
        {
            if (parts.TryGetValue(part.Key, out var set))
            {
                set(target, part.Value);
            }
            else
            {
                unknown.Add(part);
            }
        }

        if (section.Value is not null || unknown.Count > 0)
        {
            throw Invalid(unknown.Count > 0 ? unknown[0] : section, $"is not a {section.Key} setting; the settings are {string.Join(", ", parts.Keys.Select(k => $"{section.Key}:{k}"))}");
        }
    }

    public static void BindPairs(IDictionary<string, string> target, IConfigurationSection section)
    {
        foreach (var pair in section.GetChildren())
        {
            target[pair.Key] = pair.Value ?? throw Invalid(pair, "must be a single value");
        }
    }
}
