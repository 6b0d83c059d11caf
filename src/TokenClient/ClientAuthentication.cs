namespace TokenClient;

/// <summary>How the generic shaper presents the client's credentials to the token endpoint.</summary>
public enum ClientAuthentication
{
    /// <summary>HTTP Basic with the form-urlencoded id and secret (RFC 6749 section 2.3.1); every server must accept it.</summary>
    Basic = 0,

    /// <summary><c>client_id</c> and <c>client_secret</c> as form fields in the request body.</summary>
    Body = 1,
}
