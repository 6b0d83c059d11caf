namespace TokenClient;

/// <summary>WLL's regions, each with its own token endpoint.</summary>
public enum WllRegion
{
    /// <summary>The default: <c>https://auth.wlloyalty.net/oauth/token</c>.</summary>
    EU = 0,

    /// <summary><c>https://auth.us.wlloyalty.net/oauth/token</c>.</summary>
    US = 1,

    /// <summary><c>https://auth.me.wlloyalty.net/oauth/token</c>.</summary>
    GCC = 2,
}
