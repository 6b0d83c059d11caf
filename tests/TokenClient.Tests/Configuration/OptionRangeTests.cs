using System.ComponentModel.DataAnnotations;

namespace TokenClient.Tests.Configuration;

/// <summary>The ranges declared on the options: each limit in or out as declared, and a message that names the key and the value.</summary>
public class OptionRangeTests
{
    [Theory]
    [InlineData(0, false, true)]
    [InlineData(0, true, false)]
    [InlineData(10, false, true)]
    [InlineData(10, true, false)]
    [InlineData(-1, false, false)]
    [InlineData(11, false, false)]
    [InlineData(5, true, true)]
    public void EachLimit_IsInOrOut_AsDeclared(int value, bool exclusive, bool valid)
    {
        var range = new OptionRangeAttribute(0, 10) { MinimumIsExclusive = exclusive, MaximumIsExclusive = exclusive };

        (range.GetValidationResult(value, Context()) == ValidationResult.Success).Should().Be(valid);
    }

    [Theory]
    [InlineData("00:00:00.010", true)]
    [InlineData("00:00:00.009", false)]
    [InlineData("1.00:00:00", true)]
    [InlineData("1.00:00:00.0000001", false)]
    public void Durations_AreComparedAsDurations(string value, bool valid) =>
        (new OptionRangeAttribute("00:00:00.010", "1.00:00:00").GetValidationResult(TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture), Context()) == ValidationResult.Success)
            .Should().Be(valid);

    [Fact]
    public void NotANumber_IsOutOfEveryRange() =>
        new OptionRangeAttribute(0.0, 1.0).GetValidationResult(double.NaN, Context())!.ErrorMessage.Should().Be("Key must be from 0 to 1, not NaN.");

    [Fact]
    public void TheMessage_NamesTheKeyTheLimitsAndTheValue_InTheInvariantCulture()
    {
        var culture = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var range = new OptionRangeAttribute(0.0, 1.0) { Message = "{0}: {1}..{2}, {3}" };

            range.GetValidationResult(1.5, Context())!.ErrorMessage.Should().Be("Key: 0..1, 1.5");
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = culture;
        }
    }

    [Fact]
    public void TheDefaults_AreInRange() =>
        new TokenClient.DependencyInjection.TokenClientOptionsRanges().Validate("api", new TokenClientOptions()).Succeeded.Should().BeTrue();

    private static ValidationContext Context() => new(new object()) { MemberName = "Key" };
}
