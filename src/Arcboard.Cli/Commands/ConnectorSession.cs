using Arcboard.Cli.Output;
using Arcboard.Core.Configuration;
using Arcboard.Store;
using Microsoft.Extensions.Logging;

namespace Arcboard.Cli.Commands;

/// <summary>
/// Loads the configuration and reports what is wrong with it, or with the store, as a person-readable message and
/// exit code 1, before anything touches a cloud.
/// </summary>
internal static class ConnectorSession
{
    public static ArcboardOptions? LoadConfig(FileInfo file, CliConsole console)
    {
        try
        {
            return ConfigLoader.Load(file.FullName);
        }
        catch (ConfigException error)
        {
            console.Error.WriteLine(error.Message);
            return null;
        }
    }

    public static ILoggerFactory Loggers(CliConsole console, LogLevel level) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddProvider(new TextWriterLoggerProvider(console.Error, level, TimeProvider.System)));

    public static int StoreProblem(StoreException error, CliConsole console)
    {
        console.Error.WriteLine($"error: the state store cannot be used: {error.Message}");
        return ExitCodes.UsageOrConfiguration;
    }
}
