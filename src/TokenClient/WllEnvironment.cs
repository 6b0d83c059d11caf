namespace TokenClient;

/// <summary>The WLL environment a token is for; it picks the audience.</summary>
public enum WllEnvironment
{
    /// <summary>The default: audience <c>wlloyalty.net</c>, valid for any environment the credentials allow.</summary>
    Any = 0,

    /// <summary>Audience <c>staging.wlloyalty.net</c>.</summary>
    Staging = 1,

    /// <summary>Audience <c>production.wlloyalty.net</c>.</summary>
    Production = 2,
}
