using System.Net;
using TokenClient.Diagnostics;

namespace TokenClient.Http;

/// <summary>What the handler needs of a client's current definition; a new one comes with every change of configuration.</summary>
/// <param name="ClientName">The client's name, for messages and logs.</param>
/// <param name="Headers">Headers to add to every request to the caller's origin.</param>
/// <param name="AllowInsecureHttp">Whether the token may go over plain http to a host other than loopback.</param>
/// <param name="IsTokenRejected">Which API statuses mean the token was refused (the provider's rule).</param>
internal sealed record HandlerPolicy(string ClientName, KeyValuePair<string, string>[] Headers, bool AllowInsecureHttp, Func<HttpStatusCode, bool> IsTokenRejected);

/// <summary>The tokens and the current policy of one client, as the handler sees them.</summary>
internal interface ITokenSource
{
    HandlerPolicy Policy { get; }

    /// <summary>The container's instruments, where the handler counts its resends.</summary>
    TokenClientMetrics Metrics { get; }

    /// <summary>The client's DPoP key, which signs a proof for every request that carries a DPoP-bound token.</summary>
    DpopProofs Proofs { get; }

    /// <summary>The token client of a tenant (null: the client's own) and of a call's parameters (null: the configured ones).</summary>
    ITokenClient For(string? tenant, TokenRequestParameters? parameters);
}
