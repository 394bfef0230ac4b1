using System.Globalization;

namespace Arcboard.Bench;

/// <summary>Reads /proc/&lt;pid&gt;/status (VmHWM) and /proc/&lt;pid&gt;/stat (utime + stime).</summary>
public static class ProcessUsage
{
    /// <summary>The kernel's high-water mark of resident memory, in kB; null when the line is absent (a zombie has none).</summary>
    public static long? ParsePeakResidentKb(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var line in status.Split('\n'))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line["VmHWM:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb : null;
        }

        return null;
    }

    /// <summary>utime + stime in clock ticks; null when the line cannot be read.</summary>
    public static long? ParseCpuTicks(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        // The command name (field 2) is in parentheses and may itself hold spaces or ')': fields resume after the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // After the name come field 3 (state) onwards; utime and stime are fields 14 and 15.
        const int utime = 14 - 3, stime = 15 - 3;
        if (fields.Length <= stime
            || !long.TryParse(fields[utime], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !long.TryParse(fields[stime], NumberStyles.None, CultureInfo.InvariantCulture, out var system))
        {
            return null;
        }

        return user + system;
    }

    /// <summary>Reads both files; a value is null once the process is gone (a zombie keeps its CPU times but no memory lines).</summary>
    public static (long? PeakResidentKb, long? CpuTicks) Read(int pid) =>
        (ReadFile($"/proc/{pid}/status") is { } status ? ParsePeakResidentKb(status) : null,
         ReadFile($"/proc/{pid}/stat") is { } stat ? ParseCpuTicks(stat) : null);

    private static string? ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Clock ticks per second (<c>getconf CLK_TCK</c>); 100 on every Linux this runs on, asked anyway.</summary>
    public static int ClockTicksPerSecond()
    {
        try
        {
            using var getconf = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false });
            if (getconf is not null)
            {
                var text = getconf.StandardOutput.ReadToEnd();
                getconf.WaitForExit();
                if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks > 0)
                {
                    return ticks;
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }

        return 100;
    }
}
