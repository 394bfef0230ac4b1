using System.Globalization;

namespace Arcboard.Agent;

/// <summary>
/// Appends lines to the agent log file. Logging must never fail a command, and never carries keys,
/// signatures or nonces: callers pass only names, ids and outcomes.
/// </summary>
public sealed class AgentLog(string path, TimeProvider time)
{
    public void Info(string message) => Write("INFO", message);

    public void Error(string message) => Write("ERROR", message);

    private void Write(string level, string message)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var line = string.Create(CultureInfo.InvariantCulture, $"{time.GetUtcNow():yyyy-MM-ddTHH:mm:ss.fffZ} {level} {message}{Environment.NewLine}");
            File.AppendAllText(path, line);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
