using System.Diagnostics;
using Microsoft.AspNetCore.DataProtection;

namespace TokenClient;

/// <summary>
/// The configuration of one named token client. Bound from code or from a configuration section
/// whose keys are these property names (case-insensitive).
/// </summary>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class TokenClientOptions
{
    /// <summary>The default <see cref="RefreshRatio"/>.</summary>
    public const double DefaultRefreshRatio = 0.9;

    /// <summary>The provider whose wire format to speak: <c>Generic</c> (the default, RFC 6749 client credentials).</summary>
    public string Provider { get; set; } = "Generic";

    /// <summary>The absolute URI of the token endpoint; overrides the provider's default, and is required for <c>Generic</c>.</summary>
    public Uri? TokenEndpoint { get; set; }

    /// <summary>
    /// Instead of <see cref="TokenEndpoint"/>: the issuer, whose token endpoint is read from its metadata
    /// (<c>/.well-known/openid-configuration</c>, else <c>/.well-known/oauth-authorization-server</c>), kept for a day
    /// and read again after a failed token request. The metadata's <c>issuer</c> must be this URI. <c>Generic</c> only.
    /// </summary>
    public Uri? Authority { get; set; }

    /// <summary>The client identifier.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret. A secret: it never appears in a log, an exception message or a debugger display.</summary>
    [DebuggerBrowsable(DebuggerBrowsableState.Never)]
    public string? ClientSecret { get; set; }

    /// <summary>The scope to request, space-separated, where the provider takes one.</summary>
    public string? Scope { get; set; }

    /// <summary>The audience to request, where the provider takes one.</summary>
    public string? Audience { get; set; }

    /// <summary>The resource indicator (RFC 8707) to request, where the provider takes one.</summary>
    public string? Resource { get; set; }

    /// <summary>
    /// How the client proves who it is: <see cref="TokenClient.ClientAuthentication.Basic"/> (default) or
    /// <see cref="TokenClient.ClientAuthentication.Body"/> with the secret (how <c>Generic</c> sends it), or
    /// <see cref="TokenClient.ClientAuthentication.PrivateKeyJwt"/> with a signed assertion (<c>Generic</c> and <c>Login3</c>).
    /// </summary>
    public ClientAuthentication ClientAuthentication { get; set; } = ClientAuthentication.Basic;

    /// <summary>With <see cref="TokenClient.ClientAuthentication.PrivateKeyJwt"/>: the key that signs the client assertions
    /// (configuration keys <c>SigningKey:Path</c>, <c>:Password</c>, <c>:KeyId</c>, <c>:Algorithm</c>).</summary>
    public SigningKeyOptions SigningKey { get; set; } = new();

    /// <summary>With <see cref="TokenClient.ClientAuthentication.Tls"/>: the client's certificate (configuration keys
    /// <c>ClientCertificate:Path</c>, <c>:Password</c>).</summary>
    public ClientCertificateOptions ClientCertificate { get; set; } = new();

    /// <summary>
    /// Asks for DPoP-bound tokens (RFC 9449): the client makes an EC P-256 key of its own in memory, sends a proof signed by
    /// it with every token request and, through the handler, with every API request (<c>Authorization: DPoP</c>), and
    /// answers a server's <c>DPoP-Nonce</c> once. A token stolen from a log or a proxy is then useless without the key.
    /// <c>Generic</c> and <c>Login3</c> only; not with <see cref="SharedCache"/>, since the key never leaves the instance.
    /// Off by default.
    /// </summary>
    public bool Dpop { get; set; }

    /// <summary>The tenant: Lone Wolf's <c>lwt_client_id</c>, Login 3.0's <c>organization</c>. A per-call tenant (<see cref="ITokenClientFactory.GetClient(string, string)"/>) wins.</summary>
    public string? Tenant { get; set; }

    /// <summary>WLL: the region whose token endpoint to call.</summary>
    public WllRegion Region { get; set; } = WllRegion.EU;

    /// <summary>WLL: the environment the token is for, which picks the audience unless <see cref="Audience"/> is set.</summary>
    public WllEnvironment Environment { get; set; } = WllEnvironment.Any;

    /// <summary>Login 3.0: the host of <c>https://{Domain}/oauth/token</c>.</summary>
    public string? Domain { get; set; }

    /// <summary>Wokelo: the account's user name (its e-mail address), for the password grant.</summary>
    public string? Username { get; set; }

    /// <summary>Wokelo: the account's password. A secret: it never appears in a log, an exception message or a debugger display.</summary>
    [DebuggerBrowsable(DebuggerBrowsableState.Never)]
    public string? Password { get; set; }

    /// <summary>
    /// The fraction of a token's lifetime after which it is renewed in the background, in (0, 1).
    /// The rest of the lifetime is the margin in which the current token is still served.
    /// </summary>
    [OptionRange(0.0, 1.0, MinimumIsExclusive = true, MaximumIsExclusive = true, Message = "{0} must be greater than {1} and less than {2}, not {3}.")]
    public double RefreshRatio { get; set; } = DefaultRefreshRatio;

    /// <summary>
    /// The lifetime assumed for a token whose response has no <c>expires_in</c> and that is not a
    /// JWT with an <c>exp</c> claim. Default: one hour.
    /// </summary>
    [OptionRange(TokenLifetimes.Shortest, TokenLifetimes.Longest, Message = "{0} must be from {1} to {2}, the shortest and longest lifetimes a token may have, not {3}.")]
    public TimeSpan DefaultLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many times a transient failure (network, timeout, 408, 429, 5xx) is retried, with exponential backoff and jitter. 0 turns retries off. Default: 3.</summary>
    [OptionRange(0, 100)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>The median delay before the first retry; later ones grow exponentially. Default: 1 second.</summary>
    [OptionRange("00:00:00", "1.00:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before a retry. A <c>Retry-After</c> longer than this is not waited for: the failure is reported at once. Default: 30 seconds.</summary>
    [OptionRange("00:00:00", "1.00:00:00", MinimumIsExclusive = true, Message = "{0} must be positive and at most {2}, not {3}.")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one attempt at the token endpoint may take. Default: 10 seconds.</summary>
    [OptionRange(Timeouts.Shortest, Timeouts.Longest)]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one acquisition may take, retries and their delays included. Default: 30 seconds.</summary>
    [OptionRange(Timeouts.Shortest, Timeouts.Longest)]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a permanent failure (such as <c>invalid_client</c>), how long callers get the same
    /// exception at once instead of calling the endpoint again. Zero turns it off. Default: 5 seconds.
    /// </summary>
    [OptionRange("00:00:00", "10675199.02:48:05.4775807", Message = "{0} must not be negative, not {3}.")]
    public TimeSpan FailureCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest token response read, in bytes; a larger one is refused. Default: 1 MiB.</summary>
    [OptionRange(1, int.MaxValue, Message = "{0} must be a positive number of bytes, not {3}.")]
    public int MaxResponseSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Lets the handler send the token over plain <c>http</c> to hosts other than loopback. Off by default:
    /// a bearer token on an unencrypted connection is readable by anyone on the path. Turn it on only
    /// for a network you trust (a sidecar, a service mesh that encrypts for you).
    /// </summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>
    /// The most tenants (<see cref="ITokenClientFactory.GetClient(string, string)"/>, <c>WithTokenTenant</c>)
    /// that keep an entry at once; past it the least recently used are released. Tenant names often come
    /// from request data: the cap bounds the memory a caller who controls them can make the client hold.
    /// Default: 10,000.
    /// </summary>
    [OptionRange(1, int.MaxValue, Message = "{0} must be at least 1, not {3}.")]
    public int MaxTenants { get; set; } = 10_000;

    /// <summary>
    /// Shares the client's tokens between the instances of a service through the <c>IDistributedCache</c> in the
    /// container (Redis), behind the in-memory cache: an instance that finds a valid token there makes no token
    /// request. Encrypted with Data Protection unless <see cref="AllowInsecureSharedCache"/>. Off by default.
    /// </summary>
    public bool SharedCache { get; set; }

    /// <summary>Put before every key the client writes to the shared cache. Default: <c>TokenClient:</c>.</summary>
    public string SharedCacheKeyPrefix { get; set; } = "TokenClient:";

    /// <summary>
    /// How long one call to the shared cache may take; a call that takes longer counts as a failure, and the
    /// client goes on without the shared cache for a few seconds. Default: 1 second (a Redis client on a machine
    /// of one or two cores sees stalls of nearly a second now and then).
    /// </summary>
    [OptionRange("00:00:00.010", "00:01:00")]
    public TimeSpan SharedCacheTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Stores tokens in the shared cache unencrypted, readable by anyone who can read the cache. Off by default:
    /// without it, <see cref="SharedCache"/> needs Data Protection (or <see cref="SharedCacheProtector"/>).
    /// </summary>
    public bool AllowInsecureSharedCache { get; set; }

    /// <summary>
    /// Encrypts what the client stores in the shared cache, in place of a protector made from the container's
    /// <c>IDataProtectionProvider</c>. Every instance that shares must be able to unprotect what the others protect.
    /// Code only: there is no configuration key for it.
    /// </summary>
    public IDataProtector? SharedCacheProtector { get; set; }

    /// <summary>Headers the handler adds to every API request, such as an <c>X-Api-Key</c>.</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Extra name/value pairs added to every token request.</summary>
    public IDictionary<string, string> Parameters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>What binding from configuration found wrong (a bad value, an unknown key), each naming its path; start-up validation reports them.</summary>
    internal List<string> ConfigurationProblems { get; } = [];

    /// <summary>Whether the configuration section bound was empty or missing: then that alone is reported.</summary>
    internal bool ConfigurationIsEmpty { get; set; }

    /// <summary>Describes the client without its secrets.</summary>
    public override string ToString() =>
        $"{Provider} client '{ClientId}' at {(TokenEndpoint is null ? "the provider's endpoint" : WithoutUserInfo(TokenEndpoint))}";

    // The user information of a URI (user:password@) is never printed: it is often a password.
    private static string WithoutUserInfo(Uri uri) =>
        uri.IsAbsoluteUri ? uri.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped) : uri.ToString();
}
