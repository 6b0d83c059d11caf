using System.Globalization;
using System.Net;
using System.Text;

namespace TokenClient.Tests.Simulation;

/// <summary>
/// The token endpoint of the simulation, shared by every instance: each request waits until the schedule answers
/// it (a token, a failure, a body that comes late or breaks off) or the client gives up on it. Every token it
/// issues is unique and recorded with its true expiry on the monotonic clock, which is what the invariants hold
/// the tokens callers receive to.
/// </summary>
internal sealed class ScriptedTokenEndpoint(SimulationClock clock)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _sequences = new(StringComparer.Ordinal);
    private readonly List<TokenRequest> _open = [];
    private readonly List<(DateTimeOffset Due, long Order, TokenRequest Request)> _lateBodies = [];
    private readonly Dictionary<string, IssuedToken> _issued = new(StringComparer.Ordinal);
    private long _order;
    private int _tokens;

    /// <summary>Told when a request arrives (before it waits), and when it ends (answered and read, failed, or given up).</summary>
    public Action<TokenRequest>? Arrived { get; set; }

    public Action<TokenRequest>? Ended { get; set; }

    /// <summary>The primary handler of one instance's token endpoint client.</summary>
    public HttpMessageHandler HandlerFor(int instance) => new Handler(this, instance);

    /// <summary>The requests waiting for an answer, in an order that does not depend on which thread sent which first.</summary>
    public IReadOnlyList<TokenRequest> Waiting()
    {
        lock (_gate)
        {
            return _open.Where(r => r.State == RequestState.Waiting).OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Requests not yet ended: waiting, or with a body still to come.</summary>
    public int OpenCount
    {
        get
        {
            lock (_gate)
            {
                return _open.Count;
            }
        }
    }

    public IssuedToken? Issued(string token)
    {
        lock (_gate)
        {
            return _issued.GetValueOrDefault(token);
        }
    }

    /// <summary>Every token issued for a tenant (null: a client's own), by any instance.</summary>
    public IReadOnlyList<IssuedToken> IssuedFor(string? tenant)
    {
        lock (_gate)
        {
            return _issued.Values.Where(t => t.Tenant == tenant).ToList();
        }
    }

    /// <summary>When the next late body is due, on the monotonic clock.</summary>
    public DateTimeOffset? NextDue()
    {
        lock (_gate)
        {
            return _lateBodies.Count == 0 ? null : _lateBodies.Min(b => b.Due);
        }
    }

    /// <summary>Delivers the late bodies due by now, oldest first.</summary>
    public void RunDue()
    {
        List<TokenRequest> due;
        lock (_gate)
        {
            var now = clock.MonotonicNow;
            due = _lateBodies.Where(b => b.Due <= now).OrderBy(b => b.Due).ThenBy(b => b.Order).Select(b => b.Request).ToList();
            _lateBodies.RemoveAll(b => b.Due <= now);
        }

        foreach (var request in due)
        {
            ((GatedBody)request.Body!).Deliver();
        }
    }

    /// <summary>Answers with a new token valid for <paramref name="expiresIn"/>; its body arrives after <paramref name="bodyDelay"/> when one is given.</summary>
    public IssuedToken AnswerToken(TokenRequest request, TimeSpan expiresIn, TimeSpan? bodyDelay = null)
    {
        IssuedToken issued;
        lock (_gate)
        {
            var value = $"sim-{++_tokens}";
            issued = new IssuedToken(value, request.Instance, request.Tenant, request.Audience, clock.MonotonicNow, expiresIn, clock.WallOffset, bodyDelay);
            _issued[value] = issued;
        }

        var json = Encoding.UTF8.GetBytes($$"""{"access_token":"{{issued.Value}}","token_type":"Bearer","expires_in":{{expiresIn.TotalSeconds.ToString(CultureInfo.InvariantCulture)}}}""");
        if (bodyDelay is { } delay)
        {
            var body = new GatedBody(this, request, json, breakOffAfter: null);
            lock (_gate)
            {
                request.Body = body;
                _lateBodies.Add((clock.MonotonicNow + delay, _order++, request));
            }

            Answer(request, Response(HttpStatusCode.OK, new StreamContent(body)), bodyPending: true);
        }
        else
        {
            Answer(request, Response(HttpStatusCode.OK, new ByteArrayContent(json)), bodyPending: false);
        }

        return issued;
    }

    /// <summary>Answers with a status and a JSON body, and a Retry-After when given.</summary>
    public void AnswerStatus(TokenRequest request, HttpStatusCode status, string json, TimeSpan? retryAfter = null)
    {
        var response = Response(status, new StringContent(json, Encoding.UTF8, "application/json"));
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
        }

        Answer(request, response, bodyPending: false);
    }

    /// <summary>A 200 whose body stops in the middle of the JSON (the connection closed early, cleanly).</summary>
    public void AnswerTruncated(TokenRequest request) =>
        Answer(request, Response(HttpStatusCode.OK, new StringContent("""{"access_token":"sim-trunc""", Encoding.UTF8, "application/json")), bodyPending: false);

    /// <summary>A 200 whose body breaks off with a connection reset after a few bytes.</summary>
    public void AnswerReset(TokenRequest request)
    {
        var body = new GatedBody(this, request, Encoding.UTF8.GetBytes("""{"access_tok"""), breakOffAfter: 8);
        lock (_gate)
        {
            request.Body = body;
        }

        body.Deliver();
        Answer(request, Response(HttpStatusCode.OK, new StreamContent(body)), bodyPending: true);
    }

    /// <summary>No response at all: the connection failed.</summary>
    public void AnswerException(TokenRequest request)
    {
        End(request);
        request.Response.TrySetException(new HttpRequestException("Connection reset by peer (simulated)."));
    }

    private static HttpResponseMessage Response(HttpStatusCode status, HttpContent content)
    {
        content.Headers.ContentType ??= new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage(status) { Content = content };
    }

    private void Answer(TokenRequest request, HttpResponseMessage response, bool bodyPending)
    {
        lock (_gate)
        {
            request.State = bodyPending ? RequestState.BodyPending : RequestState.Done;
        }

        if (!bodyPending)
        {
            End(request);
        }

        request.Response.TrySetResult(response);
    }

    private TokenRequest Arrive(int instance, string? tenant, string audience)
    {
        TokenRequest request;
        lock (_gate)
        {
            var key = TokenRequest.KeyOf(instance, tenant);
            var sequence = _sequences[key] = _sequences.GetValueOrDefault(key) + 1;
            request = new TokenRequest(instance, tenant, audience, sequence, clock.MonotonicNow);
            _open.Add(request);
        }

        Arrived?.Invoke(request);
        return request;
    }

    /// <summary>The request is over for the endpoint; the first end counts (an answer and a give-up may race).</summary>
    private void End(TokenRequest request, bool abandoned = false)
    {
        lock (_gate)
        {
            if (!_open.Remove(request))
            {
                return;
            }

            request.Abandoned = abandoned && request.State != RequestState.Done;
            request.State = RequestState.Done;
            _lateBodies.RemoveAll(b => ReferenceEquals(b.Request, request));
        }

        Ended?.Invoke(request);
    }

    private sealed class Handler(ScriptedTokenEndpoint endpoint, int instance) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken)
        {
            var form = await message.Content!.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var fields = form.Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(pair => pair.Split('='))
                .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')), StringComparer.Ordinal);
            var request = endpoint.Arrive(instance, fields.GetValueOrDefault("organization"), fields.GetValueOrDefault("audience") ?? "?");

            // The client giving up (its attempt's timeout, its entry retired, its container disposed) ends the request,
            // before the client can send the next one.
            try
            {
                return await request.Response.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                GiveUp(request);
                throw;
            }
        }

        private void GiveUp(TokenRequest request)
        {
            lock (endpoint._gate)
            {
                if (request.State != RequestState.Waiting)
                {
                    return; // answered: the body's own reads see the cancellation
                }
            }

            endpoint.End(request, abandoned: true);
        }
    }

    /// <summary>A body that is held until delivered; it may break off with a reset after some bytes.</summary>
    internal sealed class GatedBody(ScriptedTokenEndpoint endpoint, TokenRequest request, byte[] bytes, int? breakOffAfter) : Stream
    {
        private readonly TaskCompletionSource _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public void Deliver() => _delivered.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await _delivered.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                endpoint.End(request, abandoned: true);
                throw;
            }

            var end = breakOffAfter ?? bytes.Length;
            if (_position >= end)
            {
                endpoint.End(request);
                if (breakOffAfter is not null)
                {
                    throw new IOException("Connection reset by peer (simulated) in the middle of the body.");
                }

                return 0;
            }

            var count = Math.Min(buffer.Length, end - _position);
            bytes.AsMemory(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The client reads asynchronously.");

        protected override void Dispose(bool disposing)
        {
            endpoint.End(request, abandoned: true);
            base.Dispose(disposing);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

internal enum RequestState
{
    Waiting,
    BodyPending,
    Done,
}

/// <summary>One token request as the endpoint saw it: whose it is (instance, tenant, audience) and its number among that key's requests.</summary>
internal sealed class TokenRequest(int instance, string? tenant, string audience, int sequence, DateTimeOffset arrivedAt)
{
    public int Instance { get; } = instance;

    public string? Tenant { get; } = tenant;

    public string Audience { get; } = audience;

    public int Sequence { get; } = sequence;

    public DateTimeOffset ArrivedAt { get; } = arrivedAt;

    public RequestState State { get; set; }

    /// <summary>Whether the client gave up on it before it was over (no answer, or a body not read to its end).</summary>
    public bool Abandoned { get; set; }

    internal TaskCompletionSource<HttpResponseMessage> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Stream? Body { get; set; }

    /// <summary>The key the invariants count by: instance and tenant.</summary>
    public string Key => KeyOf(Instance, Tenant);

    public string Id => $"{Key}#{Sequence}";

    public static string KeyOf(int instance, string? tenant) => $"i{instance}/{tenant ?? "(own)"}";
}

/// <summary>A token the endpoint issued: to whom, and when it truly expires (monotonic clock).</summary>
/// <param name="WallOffset">The wall clock's offset when it was issued: a later offset that is lower means the clock was stepped back since.</param>
/// <param name="BodyDelay">How long after its headers its body was sent, when it was sent late.</param>
internal sealed record IssuedToken(string Value, int Instance, string? Tenant, string Audience, DateTimeOffset IssuedAt, TimeSpan Lifetime, TimeSpan WallOffset, TimeSpan? BodyDelay)
{
    public DateTimeOffset TrueExpiry => IssuedAt + Lifetime;
}
