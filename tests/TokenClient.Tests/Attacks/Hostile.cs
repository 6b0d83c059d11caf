using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Attacks;

/// <summary>The credentials the attack tests use, each provider's set-up, and a Kestrel server on 127.0.0.1 that records what reaches it.</summary>
internal static class Hostile
{
    // Characters that every encoding writes differently (space, '+', '/', non-ASCII, HTML and JSON specials),
    // between two cores that survive any echo but base64: a leak in any form shows one of the cores.
    public const string Secret = "Sx7Kq2Wm9 +/é&<\"'>%Zt4Pv8Rn3";
    public const string Password = "Pw5Jd8Lq2 +/ü&<\"'>%Hy6Tb3Gc9";
    public const string ClientId = "attack-client";

    public static readonly string[] Cores = ["Sx7Kq2Wm9", "Zt4Pv8Rn3", "Pw5Jd8Lq2", "Hy6Tb3Gc9"];

    /// <summary>The providers as the tests run them: Generic twice, once per way of sending the secret.</summary>
    public static TheoryData<string> Providers() => new("Generic/Basic", "Generic/Body", "LoneWolf", "Wll", "Apimw", "Login3", "Wokelo");

    public static void Configure(TokenClientOptions o, string provider, Uri endpoint)
    {
        o.Provider = provider.Split('/')[0];
        o.ClientAuthentication = provider.EndsWith("/Body", StringComparison.Ordinal) ? ClientAuthentication.Body : ClientAuthentication.Basic;
        o.TokenEndpoint = endpoint;
        o.ClientId = ClientId;
        o.ClientSecret = Secret;
        o.MaxRetries = 0;
        if (o.Provider == "Login3")
        {
            o.Audience = "https://api.attack.test";
        }

        if (o.Provider == "Wokelo")
        {
            o.Username = "sam@attack.test";
            o.Password = Password;
        }
    }

    /// <summary>The Basic credentials as a client sends them: their base64 holds none of the cores.</summary>
    public static string[] BasicForms() =>
    [
        BasicParameter(),
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{Secret}")),
    ];

    /// <summary>Whether the text holds any credential in any form: a core, or the base64 of the Basic credentials.</summary>
    public static bool Leaks(string? text) =>
        text is not null && (Cores.Any(core => text.Contains(core, StringComparison.OrdinalIgnoreCase)) || BasicForms().Any(b => text.Contains(b.TrimEnd('='), StringComparison.Ordinal)));

    /// <summary>A container with the client "attack" of that provider, whose log lines are captured.</summary>
    public static ServiceProvider Client(string provider, Uri endpoint, CapturingLoggerProvider logs, Action<TokenClientOptions>? configure = null, Action<IServiceCollection>? more = null) =>
        new TestServices(
            o =>
            {
                Configure(o, provider, endpoint);
                configure?.Invoke(o);
            },
            more,
            name: "attack",
            time: TimeProvider.System,
            logs: logs,
            endpoint: endpoint).Provider;

    /// <summary>Starts a Kestrel app on 127.0.0.1 whose every request is recorded before <paramref name="map"/> answers it.</summary>
    public static async Task<Server> StartAsync(Action<WebApplication> map)
    {
        var app = Loopback.CreateBuilder().Build();
        var server = new Server(app);
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true);
            var body = await reader.ReadToEndAsync();
            context.Request.Body.Position = 0;
            server.Requests.Enqueue(new Received(context.Request.Method, context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
            await next(context);
        });
        map(app);
        server.Address = await Loopback.StartAsync(app);
        return server;
    }

    private static string BasicParameter() => TokenClient.Credentials.ClientSecretBasic.Header(ClientId, Secret).Parameter!;

    internal sealed class Server(WebApplication app) : IAsyncDisposable
    {
        public ConcurrentQueue<Received> Requests { get; } = new();

        public Uri Address { get; set; } = null!;

        public Uri Url(string path) => new(Address, path);

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }

    internal sealed record Received(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    }
}
