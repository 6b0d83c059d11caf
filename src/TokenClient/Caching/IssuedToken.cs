namespace TokenClient.Caching;

/// <summary>
/// A token issued by the endpoint and when its response arrived, from which its renewal point is measured;
/// or a token taken from the shared cache, which carries the renewal point its fetcher set (<see cref="RenewAt"/>).
/// </summary>
internal readonly record struct IssuedToken(AccessToken Token, DateTimeOffset ReceivedAt, string? RefreshToken, DateTimeOffset? RenewAt = null)
{
    /// <summary>When the token is due for renewal: <see cref="RenewAt"/> where it is set, else the fraction <paramref name="ratio"/> of its lifetime after it arrived.</summary>
    public DateTimeOffset RenewalPoint(double ratio) => RenewAt ?? ReceivedAt + ((Token.ExpiresAt - ReceivedAt) * ratio);

    // The generated ToString would print the refresh token.
    public override string ToString() => $"{Token}, received {ReceivedAt:O}";
}
