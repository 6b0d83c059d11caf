using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Http;

/// <summary>
/// A library must not resume on its caller's SynchronizationContext (a UI thread, classic ASP.NET): a
/// caller that blocks on the result would deadlock. Each case makes a different await the first to
/// wait, on the caller's thread, under a context that records every continuation posted to it.
/// </summary>
public class SynchronizationContextTests
{
    [Fact]
    public async Task Handler_WaitingForTheFirstToken_NeverResumesOnTheCallersContext()
    {
        using var harness = new Harness();
        var token = harness.HoldTokenAnswers();

        var call = harness.SendUnder(out var context);
        token.SetResult();

        (await call).StatusCode.Should().Be(HttpStatusCode.OK);
        context.Posted.Should().Be(0);
    }

    [Fact]
    public async Task Handler_WaitingForTheApisAnswer_NeverResumesOnTheCallersContext()
    {
        using var harness = new Harness();
        await harness.Services.Client.GetTokenAsync(); // cached: the first wait is for the API
        var api = harness.HoldApiAnswers();

        var call = harness.SendUnder(out var context);
        api.SetResult();

        (await call).StatusCode.Should().Be(HttpStatusCode.OK);
        context.Posted.Should().Be(0);
    }

    [Fact]
    public async Task Handler_WaitingForTheRenewalAfterARejection_NeverResumesOnTheCallersContext()
    {
        using var harness = new Harness(rejectFirst: true);
        await harness.Services.Client.GetTokenAsync(); // cached, and the API rejects it at once: the first wait is for the renewal
        var token = harness.HoldTokenAnswers();

        var call = harness.SendUnder(out var context);
        token.SetResult();

        (await call).StatusCode.Should().Be(HttpStatusCode.OK);
        context.Posted.Should().Be(0);
        harness.Services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task AFirstToken_AskedForFromATaskOnAScheduler_IsNotRequestedOnThatScheduler()
    {
        using var services = new TestServices();
        TaskScheduler? seen = null;
        services.TokenEndpoint.Respond = async n =>
        {
            await Task.Yield(); // code of the user's in the token endpoint's pipeline, without ConfigureAwait(false)
            seen = TaskScheduler.Current;
            return FakeTokenEndpoint.Token($"token-{n}", 3600);
        };
        var exclusive = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler; // as an actor framework runs its grains

        var token = await Task.Factory.StartNew(() => services.Client.GetTokenAsync().AsTask(), CancellationToken.None, TaskCreationOptions.None, exclusive).Unwrap();

        token.Value.Should().Be("token-1");
        seen.Should().BeSameAs(TaskScheduler.Default);
    }

    [Fact]
    public async Task AFirstToken_AskedForOnAPlainThread_IsRequestedOnThatThread_WithoutAHopThroughThePool()
    {
        using var services = new TestServices();
        int? requestThread = null;
        services.TokenEndpoint.Respond = n =>
        {
            requestThread = Environment.CurrentManagedThreadId;
            return Task.FromResult(FakeTokenEndpoint.Token($"token-{n}", 3600));
        };
        var callerThread = Environment.CurrentManagedThreadId;
        var xunits = SynchronizationContext.Current; // xunit runs tests under a context of its own: this caller has none
        SynchronizationContext.SetSynchronizationContext(null);
        ValueTask<AccessToken> pending;
        try
        {
            pending = services.Client.GetTokenAsync();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(xunits);
        }

        pending.IsCompletedSuccessfully.Should().BeTrue("an endpoint that answers at once gives the token before GetTokenAsync returns");
        requestThread.Should().Be(callerThread);
        (await pending).Value.Should().Be("token-1");
    }

    /// <summary>Counts what is posted to it, and runs it on the thread pool so that nothing waits on it.</summary>
    private sealed class RecordingContext : SynchronizationContext
    {
        private int _posted;

        public int Posted => Volatile.Read(ref _posted);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posted);
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }

        public override void Send(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posted);
            d(state);
        }
    }

    private sealed class Harness : IDisposable
    {
        private readonly Api _api;

        public Harness(bool rejectFirst = false)
        {
            _api = new Api(rejectFirst);
            Services = new TestServices(more: s => s.AddHttpClient("api").AddTokenHandler(TestServices.ClientName).ConfigurePrimaryHttpMessageHandler(() => _api));
        }

        public TestServices Services { get; }

        // Token requests from now on wait for the returned gate.
        public TaskCompletionSource HoldTokenAnswers()
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Services.TokenEndpoint.Respond = async n =>
            {
                await gate.Task;
                return FakeTokenEndpoint.Token($"token-{n}", 3600);
            };
            return gate;
        }

        // API answers from now on wait for the returned gate.
        public TaskCompletionSource HoldApiAnswers() => _api.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Starts a request on this thread with the recording context current, and leaves the context at once:
        // only the library's own continuations can reach it.
        public Task<HttpResponseMessage> SendUnder(out RecordingContext context)
        {
            var http = Services.Http("api");
            var previous = SynchronizationContext.Current;
            context = new RecordingContext();
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                return http.GetAsync("https://api.test/orders");
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(previous);
            }
        }

        public void Dispose() => Services.Dispose();

        /// <summary>Answers 200 (the first request 401 if asked), at once or once its gate opens.</summary>
        private sealed class Api(bool rejectFirst) : HttpMessageHandler
        {
            private int _count;

            public TaskCompletionSource? Gate { get; set; }

            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var status = Interlocked.Increment(ref _count) == 1 && rejectFirst ? HttpStatusCode.Unauthorized : HttpStatusCode.OK;
                return Gate is { } gate
                    ? gate.Task.ContinueWith(_ => new HttpResponseMessage(status), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
                    : Task.FromResult(new HttpResponseMessage(status));
            }
        }
    }
}
