using Microsoft.Extensions.Logging;

namespace Arcboard.Cli.Output;

/// <summary>Logs one line per event onto the CLI's stderr writer, so logs never mix with results on stdout.</summary>
public sealed class TextWriterLoggerProvider(TextWriter writer, LogLevel minimum, TimeProvider time) : ILoggerProvider
{
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => new TextWriterLogger(this, ShortName(categoryName));

    public void Dispose()
    {
    }

    private static string ShortName(string category) => category[(category.LastIndexOf('.') + 1)..];

    private sealed class TextWriterLogger(TextWriterLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= provider.Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = $"{provider.Time.GetUtcNow():HH:mm:ss.fff} {Level(logLevel)} {category}: {formatter(state, exception)}";
            if (exception is not null)
            {
                // The message only: stack traces are for --log-level trace, where a developer asked for them.
                line += logLevel == LogLevel.Trace || provider.Minimum == LogLevel.Trace ? $"{Environment.NewLine}{exception}" : $" ({exception.GetType().Name}: {exception.Message})";
            }

            lock (provider._lock)
            {
                provider.Writer.WriteLine(line);
            }
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            LogLevel.Critical => "crit",
            _ => "    ",
        };
    }

    private LogLevel Minimum => minimum;
    private TextWriter Writer => writer;
    private TimeProvider Time => time;
}
