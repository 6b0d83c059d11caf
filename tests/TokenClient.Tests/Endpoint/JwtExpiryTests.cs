using System.Text;
using TokenClient.Endpoint;

namespace TokenClient.Tests.Endpoint;

public class JwtExpiryTests
{
    private static readonly DateTimeOffset Exp = new(2026, 1, 1, 0, 20, 0, TimeSpan.Zero);

    // Three payloads one byte apart: their base64url forms need no padding, "==" and "=", in some order.
    [Fact]
    public void TryRead_PayloadOfEveryPaddingLength_ReadsExp()
    {
        var payloads = Enumerable.Range(0, 3).Select(i => $$"""{"sub":"{{new string('x', i)}}","exp":{{Exp.ToUnixTimeSeconds()}}}""").ToList();
        payloads.Select(p => Encode(p).Length % 4).Should().BeEquivalentTo(new[] { 0, 2, 3 });

        payloads.Select(p => JwtExpiry.TryRead(Jwt(p))).Should().Equal(Exp, Exp, Exp);
    }

    [Fact]
    public void TryRead_PayloadUsingTheUrlSafeAlphabet_DecodesMinusAndUnderscore()
    {
        // "???" encodes to "Pz8_" and "~~~" to "fn5-" when they fall on a 3-byte boundary: shift them until they do.
        var encoded = Enumerable.Range(0, 3)
            .Select(shift => Encode($$"""{"n":"{{new string('x', shift)}}???~~~","exp":{{Exp.ToUnixTimeSeconds()}}}"""))
            .First(e => e.Contains('_') && e.Contains('-'));

        JwtExpiry.TryRead($"e30.{encoded}.sig").Should().Be(Exp);
    }

    [Theory]
    [InlineData("only.two")]
    [InlineData("four.parts.are.wrong")]
    [InlineData("e30.!!!.sig")]
    [InlineData("e30.e30.sig")] // {} without exp
    public void TryRead_NotAJwtWithExp_ReturnsNull(string token) => JwtExpiry.TryRead(token).Should().BeNull();

    [Theory]
    [InlineData("""{"exp":"1767226800"}""")] // a string, not a number
    [InlineData("""{"exp":1.5e3}""")] // not an integer
    [InlineData("""{"exp":0}""")]
    [InlineData("""{"exp":-5}""")]
    [InlineData("""{"exp":253402300800}""")] // one second past what DateTimeOffset holds
    [InlineData("""[1767226800]""")]
    [InlineData("""{"exp":""")] // truncated
    public void TryRead_ExpMissingOrOutOfRange_ReturnsNull(string payload) => JwtExpiry.TryRead(Jwt(payload)).Should().BeNull();

    [Theory]
    [InlineData(1, "1970-01-01T00:00:01Z")]
    [InlineData(253402300799, "9999-12-31T23:59:59Z")]
    public void TryRead_ExpAtTheEdgesOfTheRange_IsRead(long exp, string expected) =>
        JwtExpiry.TryRead(Jwt($$"""{"exp":{{exp}}}""")).Should().Be(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));

    private static string Jwt(string payload) => $"{Encode("""{"alg":"none"}""")}.{Encode(payload)}.sig";

    private static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
