using System.Text;

namespace Arcboard.Core.Scripts;

/// <summary>
/// Quotes values for the two interpreters Run Command feeds. Everything Arcboard puts into a script goes
/// through here: single-quoted literals are the only form in which neither sh nor PowerShell expands anything.
/// </summary>
public static class ScriptQuoting
{
    /// <summary>A POSIX sh single-quoted word: nothing inside is special except the quote itself, which is closed, escaped and reopened.</summary>
    public static string Sh(string value)
    {
        RejectUnrepresentable(value);
        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>
    /// A PowerShell verbatim string. PowerShell treats the typographic single quotes (U+2018..U+201B) as quote
    /// characters too, so each of them is doubled like the ASCII one.
    /// </summary>
    public static string PowerShell(string value)
    {
        RejectUnrepresentable(value);
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('\'');
        foreach (var c in value)
        {
            builder.Append(c);
            if (IsPowerShellSingleQuote(c))
            {
                builder.Append(c);
            }
        }

        return builder.Append('\'').ToString();
    }

    private static bool IsPowerShellSingleQuote(char c) => c is '\'' or '\u2018' or '\u2019' or '\u201A' or '\u201B';

    // A NUL cannot travel through a script file, and a lone surrogate would be mangled by UTF-8 encoding;
    // both would make the value that arrives differ from the one sent, so they are refused outright.
    private static void RejectUnrepresentable(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                throw new ArgumentException("A value sent to an instance cannot contain a NUL character.", nameof(value));
            }

            if (char.IsHighSurrogate(c) && (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])))
            {
                throw new ArgumentException("A value sent to an instance contains an unpaired UTF-16 surrogate.", nameof(value));
            }

            if (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(value[i - 1])))
            {
                throw new ArgumentException("A value sent to an instance contains an unpaired UTF-16 surrogate.", nameof(value));
            }
        }
    }
}
