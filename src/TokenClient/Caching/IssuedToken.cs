namespace TokenClient.Caching;

/// <summary>
/// A token issued by the endpoint and when its response arrived, from which its renewal point is measured;
/// or a token taken from the shared cache, which carries the renewal point its fetcher set (<see cref="RenewAt"/>).
/// </summary>
internal readonly record struct IssuedToken(AccessToken Token, DateTimeOffset ReceivedAt, string? RefreshToken, DateTimeOffset? RenewAt = null)
{
    // The generated ToString would print the refresh token.
    public override string ToString() => $"{Token}, received {ReceivedAt:O}";
}
