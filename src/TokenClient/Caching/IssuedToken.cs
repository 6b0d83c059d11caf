namespace TokenClient.Caching;

/// <summary>A token issued by the endpoint and when its response arrived, from which its renewal point is measured.</summary>
internal readonly record struct IssuedToken(AccessToken Token, DateTimeOffset ReceivedAt, string? RefreshToken)
{
    // The generated ToString would print the refresh token.
    public override string ToString() => $"{Token}, received {ReceivedAt:O}";
}
