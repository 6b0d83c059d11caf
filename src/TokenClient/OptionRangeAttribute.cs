using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace TokenClient;

/// <summary>
/// The range a key of <see cref="TokenClientOptions"/> must be in, declared on the option itself and checked by the
/// validator that Microsoft.Extensions.Options generates. Its message names the key and the value given, and says the
/// range as the attribute declares it (<see cref="Message"/>). Unlike DataAnnotations' RangeAttribute for a type, it
/// converts nothing by reflection: the library stays trimmable.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
internal sealed class OptionRangeAttribute : ValidationAttribute
{
    private readonly IComparable _minimum;
    private readonly IComparable _maximum;

    public OptionRangeAttribute(int minimum, int maximum)
        : this(minimum, maximum, minimum.ToString(CultureInfo.InvariantCulture), maximum.ToString(CultureInfo.InvariantCulture))
    {
    }

    public OptionRangeAttribute(double minimum, double maximum)
        : this(minimum, maximum, minimum.ToString(CultureInfo.InvariantCulture), maximum.ToString(CultureInfo.InvariantCulture))
    {
    }

    /// <summary>A range of durations, each limit as <see cref="TimeSpan"/> writes it (<c>1.00:00:00</c>).</summary>
    public OptionRangeAttribute(string minimum, string maximum)
        : this(TimeSpan.Parse(minimum, CultureInfo.InvariantCulture), TimeSpan.Parse(maximum, CultureInfo.InvariantCulture), minimum, maximum)
    {
    }

    private OptionRangeAttribute(IComparable minimum, IComparable maximum, string minimumText, string maximumText)
    {
        (_minimum, _maximum, Minimum, Maximum) = (minimum, maximum, minimumText, maximumText);
    }

    /// <summary>The lowest value allowed, as the message says it.</summary>
    public string Minimum { get; }

    /// <summary>The highest value allowed, as the message says it.</summary>
    public string Maximum { get; }

    public bool MinimumIsExclusive { get; set; }

    public bool MaximumIsExclusive { get; set; }

    /// <summary>The message, as a composite format: {0} the key, {1} the minimum, {2} the maximum, {3} the value.</summary>
    public string Message { get; set; } = "{0} must be from {1} to {2}, not {3}.";

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is IComparable given && InRange(given)
            ? ValidationResult.Success
            : new ValidationResult(string.Format(CultureInfo.InvariantCulture, Message, validationContext.MemberName, Minimum, Maximum, value));

    private bool InRange(IComparable value)
    {
        var low = value.CompareTo(_minimum);
        var high = value.CompareTo(_maximum);
        return (MinimumIsExclusive ? low > 0 : low >= 0) && (MaximumIsExclusive ? high < 0 : high <= 0);
    }
}

/// <summary>The shortest and longest timeouts of a token request (the ranges Polly accepts), as the options declare them.</summary>
internal static class Timeouts
{
    public const string Shortest = "00:00:00.010";

    public const string Longest = "1.00:00:00";

    public static readonly TimeSpan Min = TimeSpan.Parse(Shortest, CultureInfo.InvariantCulture);

    public static readonly TimeSpan Max = TimeSpan.Parse(Longest, CultureInfo.InvariantCulture);
}

/// <summary>The shortest and longest lifetimes a token may have, as the ranges of the options declare them and the reader applies them.</summary>
internal static class TokenLifetimes
{
    public const string Shortest = "00:00:02";

    public const string Longest = "365.00:00:00";

    /// <summary>A token that claims to live less than this is refused: caching it would turn every call into a token request.</summary>
    public static readonly TimeSpan Min = TimeSpan.Parse(Shortest, CultureInfo.InvariantCulture);

    /// <summary>A token that claims to live longer is treated as living this long: date arithmetic stays far from overflow.</summary>
    public static readonly TimeSpan Max = TimeSpan.Parse(Longest, CultureInfo.InvariantCulture);
}
