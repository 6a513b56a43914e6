using Microsoft.Extensions.Logging;

namespace RunbookPilot.Engine.Tests.Execution;

/// <summary>
/// With RBPILOT_TEST_LOG=&lt;file&gt; set, the engines of EngineFixture append their log (Akka's included) to that file:
/// xUnit does not show what an engine logs, and a test that fails only under load needs it.
/// </summary>
public sealed class FileLog(string path) : ILoggerProvider
{
    private static readonly Lock Gate = new();

    public static Action<ILoggingBuilder>? FromEnvironment() =>
        Environment.GetEnvironmentVariable("RBPILOT_TEST_LOG") is { Length: > 0 } path ? b => b.AddProvider(new FileLog(path)).SetMinimumLevel(LogLevel.Information) : null;

    public ILogger CreateLogger(string categoryName) => new Writer(path, categoryName);

    public void Dispose() { }

    private sealed class Writer(string path, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Gate) File.AppendAllText(path, $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)} {exception?.Message}\n");
        }
    }
}
