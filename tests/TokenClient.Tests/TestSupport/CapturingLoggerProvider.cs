using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TokenClient.Tests.TestSupport;

/// <summary>Keeps every formatted log line, with its exception as a console logger prints it (inner exceptions included), for tests to search.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(EventId Id, LogLevel Level, string Text)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue((eventId, logLevel, $"{formatter(state, exception)} {exception}"));
    }
}
