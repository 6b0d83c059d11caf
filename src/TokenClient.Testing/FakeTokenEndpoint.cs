using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Clients;

namespace TokenClient.Testing;

/// <summary>
/// The token endpoint of one token client, answered in memory: it issues tokens without a network, records every
/// request the library makes, and lets a test expire, revoke or refuse tokens on demand. Made by
/// <see cref="FakeTokenClientServiceCollectionExtensions.AddFakeTokenClient"/>; safe to use from many threads.
/// </summary>
public sealed class FakeTokenEndpoint
{
    private readonly object _gate = new();
    private readonly List<FakeTokenRequest> _requests = [];
    private readonly List<string> _issued = [];
    private readonly HashSet<string> _valid = new(StringComparer.Ordinal);
    private (HttpStatusCode Status, string Error, string? Description)? _failure;
    private IServiceProvider? _services;

    internal FakeTokenEndpoint(string clientName) => ClientName = clientName;

    /// <summary>The token client this endpoint answers.</summary>
    public string ClientName { get; }

    /// <summary>The lifetime of the tokens issued from now on (<c>expires_in</c>); one hour by default.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Every token request received, in order.</summary>
    public IReadOnlyList<FakeTokenRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>How many token requests were received.</summary>
    public int RequestCount
    {
        get
        {
            lock (_gate)
            {
                return _requests.Count;
            }
        }
    }

    /// <summary>Every token issued, in order.</summary>
    public IReadOnlyList<string> IssuedTokens
    {
        get
        {
            lock (_gate)
            {
                return [.. _issued];
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="token"/> was issued here and is neither revoked nor expired: what a fake API checks
    /// before it answers (with 401 otherwise, so that the token handler renews the token and resends).
    /// </summary>
    public bool IsValid(string? token)
    {
        lock (_gate)
        {
            return token is not null && _valid.Contains(token);
        }
    }

    /// <summary>
    /// Revokes every token issued so far, as a provider does when a key rotates: <see cref="IsValid"/> says no, and
    /// the client keeps its token until the API rejects it (then the handler renews and resends once).
    /// </summary>
    public void Revoke()
    {
        lock (_gate)
        {
            _valid.Clear();
        }
    }

    /// <summary>
    /// Expires every token issued so far: revoked, and dropped from the client's cache (every tenant's), so the next
    /// call for a token requests a new one, as at the end of its lifetime.
    /// </summary>
    public void Expire()
    {
        Revoke();
        if (Volatile.Read(ref _services) is { } services)
        {
            services.GetRequiredService<TokenClientFactory>().Named(ClientName).DropAll();
        }
    }

    /// <summary>
    /// Refuses every token request from now on, until <see cref="Recover"/>, with an OAuth error (for APIMW, its
    /// envelope with <paramref name="error"/> as the code). By default 401 <c>invalid_client</c>, a permanent failure,
    /// which the library does not retry; a status of 500 or more is transient, and retried as the client's
    /// <c>MaxRetries</c> says.
    /// </summary>
    public void Fail(HttpStatusCode status = HttpStatusCode.Unauthorized, string error = "invalid_client", string? description = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(error);
        lock (_gate)
        {
            _failure = (status, error, description);
        }
    }

    /// <summary>Issues tokens again after <see cref="Fail"/>.</summary>
    public void Recover()
    {
        lock (_gate)
        {
            _failure = null;
        }
    }

    /// <summary>The container whose client this endpoint answers: <see cref="Expire"/> drops that client's tokens.</summary>
    internal void Attach(IServiceProvider services) => Volatile.Write(ref _services, services);

    internal async Task<HttpResponseMessage> AnswerAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var fields = await ReadFieldsAsync(request.Content, cancellationToken).ConfigureAwait(false);
        var received = new FakeTokenRequest(request.RequestUri!, request.Content?.Headers.ContentType?.MediaType, fields, request.Headers);
        var envelope = fields.ContainsKey("api_key"); // APIMW answers in an envelope
        lock (_gate)
        {
            _requests.Add(received);
            if (fields.Count == 0)
            {
                return Json(HttpStatusCode.BadRequest, Error("invalid_request", "The fake token endpoint found no fields in the request body."));
            }

            if (_failure is { } failure)
            {
                return Json(failure.Status, envelope
                    ? new Dictionary<string, object> { ["success"] = false, ["error"] = new Dictionary<string, object> { ["code"] = failure.Error, ["message"] = failure.Description ?? failure.Error } }
                    : Error(failure.Error, failure.Description));
            }

            var token = $"fake.{ClientName.Length}.{_issued.Count + 1}.{Guid.NewGuid():N}";
            _issued.Add(token);
            _valid.Add(token);
            var answer = new Dictionary<string, object>
            {
                ["access_token"] = token,
                ["token_type"] = "Bearer",
                ["expires_in"] = (long)Math.Ceiling(Lifetime.TotalSeconds),
                ["refresh_token"] = $"fake-refresh.{Guid.NewGuid():N}",
            };
            return Json(HttpStatusCode.OK, envelope ? new Dictionary<string, object> { ["success"] = true, ["data"] = answer } : answer);
        }
    }

    private static Dictionary<string, object> Error(string error, string? description) =>
        description is null ? new() { ["error"] = error } : new() { ["error"] = error, ["error_description"] = description };

    private static HttpResponseMessage Json(HttpStatusCode status, Dictionary<string, object> body) => new(status)
    {
        Content = new StringContent(JsonSerializer.Serialize(body, FakeJsonContext.Default.DictionaryStringObject), Encoding.UTF8, "application/json"),
    };

    // A body that is not a JSON object has no fields: the request is recorded, and refused as the fake's answer says.
    private static void ReadJson(string body, Dictionary<string, string> fields)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach (var property in json.RootElement.EnumerateObject())
            {
                fields[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            }
        }
        catch (JsonException)
        {
            // Not JSON at all.
        }
    }

    private static async Task<IReadOnlyDictionary<string, string>> ReadFieldsAsync(HttpContent? content, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (content)
        {
            case null:
                break;
            case MultipartFormDataContent parts:
                foreach (var part in parts)
                {
                    if (part.Headers.ContentDisposition?.Name is { } name)
                    {
                        fields[name.Trim('"')] = await part.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                break;
            default:
                var body = await content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (content.Headers.ContentType?.MediaType == "application/json")
                {
                    ReadJson(body, fields);
                }
                else
                {
                    foreach (var pair in body.Split('&', StringSplitOptions.RemoveEmptyEntries))
                    {
                        var equals = pair.IndexOf('=', StringComparison.Ordinal);
                        fields[FakeTokenRequest.FormDecode(equals < 0 ? pair : pair[..equals])] = equals < 0 ? string.Empty : FakeTokenRequest.FormDecode(pair[(equals + 1)..]);
                    }
                }

                break;
        }

        return fields;
    }
}
