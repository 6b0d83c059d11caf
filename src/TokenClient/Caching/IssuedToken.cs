namespace TokenClient.Caching;

/// <summary>
/// A token issued by the endpoint and when its response arrived, from which its renewal point is measured;
/// or a token taken from the shared cache, which carries the renewal point its fetcher set (<see cref="RenewAt"/>).
/// </summary>
/// <param name="Token">The token.</param>
/// <param name="ReceivedAt">When it arrived, on the wall clock: what its expiry and renewal point are counted from.</param>
/// <param name="ReceivedTimestamp">
/// The same instant on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>): the cache counts a token's time
/// from it, so that a step of the wall clock (NTP, a VM resumed) neither keeps a dead token nor renews every token at once.
/// </param>
/// <param name="RefreshToken">The refresh token that came with it, if any.</param>
/// <param name="RenewAt">The renewal point its fetcher set, for a token from the shared cache.</param>
internal readonly record struct IssuedToken(AccessToken Token, DateTimeOffset ReceivedAt, long ReceivedTimestamp, string? RefreshToken, DateTimeOffset? RenewAt = null)
{
    /// <summary>How long the token lives from its arrival.</summary>
    public TimeSpan Lifetime => Token.ExpiresAt - ReceivedAt;

    /// <summary>When the token is due for renewal: <see cref="RenewAt"/> where it is set, else the fraction <paramref name="ratio"/> of its lifetime after it arrived.</summary>
    public DateTimeOffset RenewalPoint(double ratio) => RenewAt ?? ReceivedAt + (Lifetime * ratio);

    /// <summary>When the token expires, on the monotonic clock of <paramref name="time"/>.</summary>
    public long ExpiresAtTimestamp(TimeProvider time) => time.TimestampAfter(ReceivedTimestamp, Lifetime);

    /// <summary>When the token is due for renewal (see <see cref="RenewalPoint"/>), on the monotonic clock of <paramref name="time"/>.</summary>
    public long RenewAtTimestamp(double ratio, TimeProvider time) => time.TimestampAfter(ReceivedTimestamp, RenewalPoint(ratio) - ReceivedAt);

    // The generated ToString would print the refresh token.
    public override string ToString() => $"{Token}, received {ReceivedAt:O}";
}
