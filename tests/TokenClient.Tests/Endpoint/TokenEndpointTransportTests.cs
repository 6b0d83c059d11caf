using System.Net;
using System.Text;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Endpoint;

/// <summary>What the transport refuses, at the edges: the size limit to the byte, the redirect range to the status.</summary>
public class TokenEndpointTransportTests
{
    private const string Body = """{"access_token":"sized-token","token_type":"Bearer","expires_in":3600}""";
    private static readonly int Size = Encoding.UTF8.GetByteCount(Body);

    [Theory]
    [InlineData(true, 0, true)]
    [InlineData(true, 1, false)]
    [InlineData(false, 0, true)]
    [InlineData(false, 1, false)]
    public async Task Body_ExactlyAtTheLimit_IsRead_AndAByteMoreIsRefused(bool withLength, int over, bool accepted)
    {
        using var services = new TestServices(o => o.MaxResponseSize = Size - over);
        HttpContent Content() => withLength ? new StringContent(Body, Encoding.UTF8, "application/json") : new StreamContent(new TrickleStream(Encoding.UTF8.GetBytes(Body)));
        Content().Headers.ContentLength.Should().Be(withLength ? Size : null);
        services.TokenEndpoint.Respond = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = Content() });

        var act = async () => await services.Client.GetTokenAsync();

        if (accepted)
        {
            (await act()).Value.Should().Be("sized-token");
        }
        else
        {
            (await act.Should().ThrowAsync<TokenRequestException>()).Which.Message.Should().Contain($"larger than the limit of {Size - 1} bytes");
        }
    }

    [Theory]
    [InlineData(4_000)]
    [InlineData(4_095)]
    [InlineData(4_096)]
    [InlineData(20_000)]
    public async Task ABodyOfUnknownLength_LongerThanTheFirstBuffer_IsReadWhole_AndTheNextShorterOneAlone(int padding)
    {
        using var services = new TestServices(o => o.MaxResponseSize = 65_536);
        var long_ = $$"""{"access_token":"long-token","token_type":"Bearer","expires_in":3600,"padding":"{{new string('x', padding)}}"}""";
        var bodies = new Queue<string>([long_, Body]);
        services.TokenEndpoint.Respond = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new TrickleStream(Encoding.UTF8.GetBytes(bodies.Dequeue()), largestRead: int.MaxValue)) });

        var first = await services.Client.GetTokenAsync();
        services.Client.Invalidate(first);
        var second = await services.Client.GetTokenAsync();

        first.Value.Should().Be("long-token");
        second.Value.Should().Be("sized-token", "a buffer used before holds nothing of the body before");
    }

    [Theory]
    [InlineData(300, true)]
    [InlineData(302, true)]
    [InlineData(399, true)]
    [InlineData(299, false)]
    [InlineData(400, false)]
    public async Task Status_FromThreeHundredToThreeNinetyNine_IsARedirectAndRefused(int status, bool redirect)
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = _ =>
        {
            var response = FakeTokenEndpoint.Json((HttpStatusCode)status, status == 299 ? Body : """{"error":"invalid_request"}""");
            response.Headers.Location = new Uri("https://elsewhere.test/token");
            return Task.FromResult(response);
        };

        var act = async () => await services.Client.GetTokenAsync();

        if (status == 299)
        {
            (await act()).Value.Should().Be("sized-token");
            return;
        }

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.Message.Contains("a redirect to elsewhere.test", StringComparison.Ordinal).Should().Be(redirect);
        thrown.StatusCode.Should().Be((HttpStatusCode)status);
    }

    /// <summary>A body of unknown length that arrives a few bytes at a time.</summary>
    // A body of unknown length, read at most largestRead bytes at a time; int.MaxValue fills whatever it is asked to, as a
    // fast socket does, so that a buffer comes back full.
    private sealed class TrickleStream(byte[] bytes, int largestRead = 7) : MemoryStream(bytes)
    {
        public override bool CanSeek => false; // no Content-Length: the limit is enforced while reading

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, largestRead)], cancellationToken);
    }
}
