using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Attacks;

/// <summary>
/// A token endpoint on 127.0.0.1 that echoes the request it got (body and Authorization header) back in
/// its error, in every format a server writes errors in. Each test first checks that the server really
/// sent a credential back, then that none reaches an exception, its properties or a log line.
/// </summary>
public sealed class EchoedSecretTests : IAsyncLifetime
{
    private Hostile.Server _server = null!;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _answers = new();

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var provider in new[] { "Generic/Basic", "Generic/Body", "LoneWolf", "Wll", "Apimw", "Login3", "Wokelo" })
        {
            foreach (var format in new[] { "json", "code", "text", "html", "bad-gateway", "apimw" })
            {
                data.Add(provider, format);
            }
        }

        return data;
    }

    public async Task InitializeAsync() => _server = await Hostile.StartAsync(app => app.MapPost("/{format}", Echo));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GetTokenAsync_ServerEchoesTheRequest_NoCredentialInExceptionOrLogs(string provider, string format)
    {
        var logs = new CapturingLoggerProvider();
        await using var services = Hostile.Client(provider, _server.Url($"/{format}"), logs);

        var act = async () => await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        _answers.Should().ContainSingle().Which.Should().Match(answer => Hostile.Leaks(answer), "the server must really have sent a credential back");
        foreach (var text in new[] { thrown.Message, thrown.ToString(), thrown.Error, thrown.ErrorDescription }.Concat(logs.Lines.Select(l => l.Text)))
        {
            Hostile.Leaks(text).Should().BeFalse($"no credential may appear in: {text}");
        }
    }

    [Theory]
    [InlineData("text")]
    [InlineData("html")]
    [InlineData("bad-gateway")]
    public async Task GetTokenAsync_EchoedErrorPage_IsQuotedWithTheSecretReplaced(string format)
    {
        await using var services = Hostile.Client("Generic/Body", _server.Url($"/{format}"), new CapturingLoggerProvider());

        var act = async () => await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.Message.Should().Contain("You sent").And.Contain("client_id=attack-client").And.Contain("[redacted]");
    }

    [Fact]
    public async Task GetTokenAsync_EchoedDescription_KeepsTheRestOfTheDescription()
    {
        await using var services = Hostile.Client("LoneWolf", _server.Url("/json"), new CapturingLoggerProvider());

        var act = async () => await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.Error.Should().Be("invalid_request");
        thrown.ErrorDescription.Should().StartWith("You sent:").And.Contain("\"client_id\":\"attack-client\"").And.Contain("[redacted]");
    }

    [Fact]
    public async Task GetTokenAsync_WokeloRefreshGrantEchoed_NeitherTheRefreshTokenNorTheAccessTokenAppears()
    {
        await using var server = await Hostile.StartAsync(app => app.MapPost("/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            if (form["grant_type"] == "password")
            {
                await context.Response.WriteAsJsonAsync(new { access_token = "Ak1Rm7Qx4-issued-access", refresh_token = "Rf9Lw2Zc6-issued-refresh", token_type = "Bearer", expires_in = 3600 });
                return;
            }

            // The refresh grant: the server echoes the whole form and the token it issued before.
            context.Response.StatusCode = 503;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync($"overloaded; you sent {string.Join('&', form.Select(f => $"{f.Key}={f.Value}"))} for Ak1Rm7Qx4-issued-access");
        }));
        var logs = new CapturingLoggerProvider();
        await using var services = Hostile.Client("Wokelo", server.Url("/token"), logs, o => o.FailureCooldown = TimeSpan.Zero);
        var client = services.GetRequiredKeyedService<ITokenClient>("attack");
        client.Invalidate(await client.GetTokenAsync());

        var act = async () => await client.GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        server.Requests.Last().Body.Should().Contain("Rf9Lw2Zc6-issued-refresh", "the refresh grant carried the refresh token");
        foreach (var text in new[] { thrown.Message, thrown.ToString() }.Concat(logs.Lines.Select(l => l.Text)))
        {
            text.Should().NotContain("Rf9Lw2Zc6").And.NotContain("Ak1Rm7Qx4");
            Hostile.Leaks(text).Should().BeFalse(text);
        }
    }

    [Fact]
    public async Task GetTokenAsync_InvalidHeaderLineEchoingTheRequest_NoCredentialInTheExceptionChain()
    {
        // Below HTTP: a raw socket on 127.0.0.1 that answers with a header line .NET refuses, and quotes in its exception, holding the request's body.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var echoed = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            var stream = socket.GetStream();
            var buffer = new byte[8192];
            var received = new StringBuilder();
            while (!received.ToString().Contains("client_secret=", StringComparison.Ordinal) || !received.ToString().EndsWith("Rn3", StringComparison.Ordinal))
            {
                var n = await stream.ReadAsync(buffer);
                if (n == 0)
                {
                    break;
                }

                received.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }

            var body = received.ToString()[(received.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
            var answer = $"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nYou sent {body}\r\n\r\n";
            await stream.WriteAsync(Encoding.UTF8.GetBytes(answer));
            await stream.FlushAsync();
            return answer;
        });
        var logs = new CapturingLoggerProvider();
        await using var services = Hostile.Client("Generic/Body", new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/token"), logs);

        var act = async () => await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        Hostile.Leaks(await echoed).Should().BeTrue("the server must really have sent the secret back");
        thrown.InnerException.Should().NotBeNull("the transport failure is kept, with the server's text redacted");
        foreach (var text in new[] { thrown.ToString() }.Concat(logs.Lines.Select(l => l.Text)))
        {
            Hostile.Leaks(text).Should().BeFalse(text);
        }
    }

    // The request's Authorization header and body, sent back in the error format the path names.
    private async Task Echo(HttpContext context, string format)
    {
        using var reader = new StreamReader(context.Request.Body);
        var echo = $"You sent: {context.Request.Headers.Authorization} {await reader.ReadToEndAsync()}";
        var (status, type, body) = format switch
        {
            "json" => (400, "application/json", JsonSerializer.Serialize(new { error = "invalid_request", error_description = echo })),
            "code" => (400, "application/json", JsonSerializer.Serialize(new { error = echo })),
            "text" => (400, "text/plain", echo),
            "html" => (400, "text/html", $"<html><body><h1>Bad request</h1><pre>{WebUtility.HtmlEncode(echo)}</pre></body></html>"),
            "bad-gateway" => (502, "text/html", $"<html><body>502 Bad Gateway: upstream refused {echo}</body></html>"),
            _ => (401, "application/json", JsonSerializer.Serialize(new { success = false, error = new { code = "INVALID_CREDENTIALS", message = echo } })),
        };
        _answers.Enqueue(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = type;
        await context.Response.WriteAsync(body);
    }
}
