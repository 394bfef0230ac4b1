using System.Text;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Instances;

/// <summary>A script the model understood: one of Arcboard's two onboarding scripts (docs/contracts.md section 3).</summary>
public abstract record ModelledScript(InstancePlatform Platform);

/// <summary>The probe-and-genkey script; it takes no parameters.</summary>
public sealed record ProbeScript(InstancePlatform Platform) : ModelledScript(Platform);

/// <summary>
/// The batched connect script: for each arm, the instance id it matches and the arguments it appends to
/// <c>azcmagent connect existing --use-saved-key</c>, exactly as the interpreter would pass them.
/// </summary>
public sealed record ConnectScript(InstancePlatform Platform, IReadOnlyList<ConnectArm> Arms, string UnknownInstanceMarker, int UnknownInstanceExitCode, int CallLine) : ModelledScript(Platform)
{
    /// <summary>
    /// The arms that run on <paramref name="instanceId"/>: sh's <c>case</c> takes the first match only; PowerShell's
    /// <c>switch</c> runs every matching arm in order.
    /// </summary>
    public IReadOnlyList<ConnectArm> ArmsFor(string instanceId)
    {
        var matching = Arms.Where(a => string.Equals(a.InstanceId, instanceId, StringComparison.Ordinal));
        return Platform == InstancePlatform.Windows ? [.. matching] : [.. matching.Take(1)];
    }
}

public sealed record ConnectArm(string InstanceId, IReadOnlyList<string> Arguments);

/// <summary>Why a script is not one the model understands; the invocation fails with this reason rather than guess.</summary>
public sealed record ScriptNotUnderstood(string Reason);

/// <summary>
/// Recognises Arcboard's onboarding scripts by their documented structure and extracts each instance's arguments by
/// tokenizing the quoted words as sh and PowerShell would. It never runs or evaluates anything: whatever deviates from
/// the documented structure by a single character is refused.
/// </summary>
public static class ScriptModel
{
    public const string ConnectExitMarker = "ARCBOARD-CONNECT-EXIT";

    /// <summary>The probe script for sh after its leading comment lines, exactly.</summary>
    public const string ShProbeBody = """
        if ! command -v azcmagent >/dev/null 2>&1; then
          echo ARCBOARD-AGENT-ABSENT
          exit 0
        fi
        show=$(azcmagent show -j 2>/dev/null | tr -d '\r\n')
        if printf '%s' "$show" | grep -q '"status" *: *"Connected"'; then
          printf 'ARCBOARD-CONNECTED %s\n' "$show"
          exit 0
        fi
        key=$(azcmagent genkey)
        rc=$?
        if [ "$rc" -ne 0 ]; then
          echo "ARCBOARD-GENKEY-FAILED $rc"
          exit 1
        fi
        printf 'ARCBOARD-KEY %s\n' "$(printf '%s' "$key" | tr -d '\r\n')"
        exit 0
        """;

    /// <summary>The probe script for PowerShell after its leading comment lines, exactly.</summary>
    public const string PowerShellProbeBody = """
        if ($null -eq (Get-Command azcmagent -ErrorAction SilentlyContinue)) {
          Write-Output 'ARCBOARD-AGENT-ABSENT'
          exit 0
        }
        $show = (& azcmagent show -j 2>$null) -join ''
        if ($show -match '"status"\s*:\s*"Connected"') {
          Write-Output "ARCBOARD-CONNECTED $show"
          exit 0
        }
        $key = (& azcmagent genkey) -join ''
        $rc = $LASTEXITCODE
        if ($rc -ne 0) {
          Write-Output "ARCBOARD-GENKEY-FAILED $rc"
          exit 1
        }
        Write-Output "ARCBOARD-KEY $key"
        exit 0
        """;

    private const string ShConnectTail = """
        azcmagent connect existing --use-saved-key "$@"
        rc=$?
        echo "ARCBOARD-CONNECT-EXIT $rc"
        if [ "$rc" -eq 194 ]; then rc=1; fi
        exit $rc
        """;

    private const string PowerShellConnectTail = """
        Write-Output "ARCBOARD-CONNECT-EXIT $rc"
        if ($rc -eq 3010) { $rc = 1 }
        exit $rc
        """;

    /// <summary>The script as a model, or why it is not understood.</summary>
    public static (ModelledScript? Script, ScriptNotUnderstood? Problem) Parse(string script, InstancePlatform platform)
    {
        ArgumentNullException.ThrowIfNull(script);
        try
        {
            var reader = new Cursor(script, crlf: platform == InstancePlatform.Windows);
            reader.SkipCommentLines();
            var body = reader.Rest;
            if (Same(body, platform == InstancePlatform.Windows ? PowerShellProbeBody : ShProbeBody, platform))
            {
                return (new ProbeScript(platform), null);
            }

            return platform == InstancePlatform.Windows ? (ParsePowerShellConnect(reader), null) : (ParseShConnect(reader), null);
        }
        catch (NotUnderstoodException e)
        {
            return (null, new ScriptNotUnderstood(e.Message));
        }
    }

    /// <summary>Reads one sh word made only of single-quoted parts and <c>\'</c>, as <c>ScriptQuoting.Sh</c> writes them.</summary>
    public static string ReadShWord(string text, ref int position)
    {
        var cursor = new Cursor(text, crlf: false) { Position = position };
        var word = cursor.ShWord();
        position = cursor.Position;
        return word;
    }

    /// <summary>Reads one PowerShell verbatim string literal (any of the five single-quote characters; a doubled one is literal).</summary>
    public static string ReadPowerShellLiteral(string text, ref int position)
    {
        var cursor = new Cursor(text, crlf: false) { Position = position };
        var word = cursor.PowerShellLiteral();
        position = cursor.Position;
        return word;
    }

    private static ConnectScript ParseShConnect(Cursor reader)
    {
        reader.Expect("case \"$AWS_SSM_INSTANCE_ID\" in\n", "a connect script starts with: case \"$AWS_SSM_INSTANCE_ID\" in");
        var arms = new List<ConnectArm>();
        string marker;
        int unknownExit;
        while (true)
        {
            reader.Expect("  ", "each case arm is indented by two spaces");
            if (reader.TryExpect("*) echo "))
            {
                marker = reader.BareWord();
                reader.Expect("; exit ", "the default arm is: *) echo MARKER; exit CODE ;;");
                unknownExit = reader.Number(255);
                reader.Expect(" ;;\n", "the default arm ends with ' ;;'");
                break;
            }

            var id = reader.ShWord();
            reader.Expect(") set --", "a case arm is: 'INSTANCE-ID') set -- 'ARG' ... ;;");
            var arguments = new List<string>();
            while (!reader.TryExpect(" ;;\n"))
            {
                reader.Expect(" ", "arguments are separated by one space and the arm ends with ' ;;'");
                arguments.Add(reader.ShWord());
            }

            arms.Add(new ConnectArm(id, arguments));
        }

        reader.Expect("esac\n", "the case statement ends with esac after the default arm");
        var callLine = reader.LineNumber;
        if (!Same(reader.Rest, ShConnectTail, InstancePlatform.Linux))
        {
            throw new NotUnderstoodException("the lines after esac are not the documented connect tail (azcmagent connect existing --use-saved-key \"$@\" ... exit $rc)");
        }

        return new ConnectScript(InstancePlatform.Linux, arms, marker, unknownExit, callLine);
    }

    private static ConnectScript ParsePowerShellConnect(Cursor reader)
    {
        reader.ExpectLine("$rc = $null", "a connect script starts with: $rc = $null");
        reader.ExpectLine("switch -Exact -CaseSensitive ($env:AWS_SSM_INSTANCE_ID) {", "then: switch -Exact -CaseSensitive ($env:AWS_SSM_INSTANCE_ID) {");
        var arms = new List<ConnectArm>();
        const string Call = " { & azcmagent connect existing --use-saved-key ";
        const string End = "; $rc = $LASTEXITCODE }";
        while (!reader.TryExpectLine("}"))
        {
            reader.Expect("  ", "each switch arm is indented by two spaces");
            var id = reader.PowerShellLiteral();
            reader.Expect(Call, "a switch arm is: 'INSTANCE-ID' { & azcmagent connect existing --use-saved-key 'ARG' ...; $rc = $LASTEXITCODE }");
            var arguments = new List<string>();
            if (!reader.TryExpect(End))
            {
                arguments.Add(reader.PowerShellLiteral());
                while (reader.TryExpect(" "))
                {
                    arguments.Add(reader.PowerShellLiteral());
                }

                reader.Expect(End, "a switch arm ends with '; $rc = $LASTEXITCODE }'");
            }

            reader.LineEnd();
            arms.Add(new ConnectArm(id, arguments));
        }

        reader.Expect("if ($null -eq $rc) { Write-Output '", "after the switch: if ($null -eq $rc) { Write-Output 'MARKER'; exit CODE }");
        var marker = reader.BareWord();
        reader.Expect("'; exit ", "after the switch: if ($null -eq $rc) { Write-Output 'MARKER'; exit CODE }");
        var unknownExit = reader.Number(int.MaxValue);
        reader.Expect(" }", "after the switch: if ($null -eq $rc) { Write-Output 'MARKER'; exit CODE }");
        reader.LineEnd();
        var callLine = reader.LineNumber;
        if (!Same(reader.Rest, PowerShellConnectTail, InstancePlatform.Windows))
        {
            throw new NotUnderstoodException("the lines after the switch are not the documented connect tail (Write-Output \"ARCBOARD-CONNECT-EXIT $rc\" ... exit $rc)");
        }

        return new ConnectScript(InstancePlatform.Windows, arms, marker, unknownExit, callLine);
    }

    // Trailing blank space at the very end makes no difference to either interpreter; PowerShell also reads CRLF as LF.
    private static bool Same(string actual, string expected, InstancePlatform platform)
    {
        if (platform == InstancePlatform.Windows)
        {
            actual = actual.Replace("\r\n", "\n", StringComparison.Ordinal);
        }

        return string.Equals(actual.TrimEnd(' ', '\t', '\n'), expected, StringComparison.Ordinal);
    }

    private sealed class NotUnderstoodException(string message) : Exception(message);

    private sealed class Cursor(string text, bool crlf)
    {
        public int Position { get; set; }

        public string Rest => text[Position..];

        /// <summary>The 1-based line the cursor is on.</summary>
        public int LineNumber => text.AsSpan(0, Position).Count('\n') + 1;

        public void SkipCommentLines()
        {
            while (Position < text.Length)
            {
                var end = text.IndexOf('\n', Position);
                var line = end < 0 ? text[Position..] : text[Position..end];
                if (line.TrimStart().StartsWith('#') || line.Trim().Length == 0)
                {
                    Position = end < 0 ? text.Length : end + 1;
                }
                else
                {
                    return;
                }
            }
        }

        public bool TryExpect(string literal)
        {
            if (Position + literal.Length <= text.Length && string.CompareOrdinal(text, Position, literal, 0, literal.Length) == 0)
            {
                Position += literal.Length;
                return true;
            }

            return false;
        }

        public void Expect(string literal, string structure)
        {
            if (!TryExpect(literal))
            {
                throw new NotUnderstoodException($"{structure} (at character {Position}: {Preview()})");
            }
        }

        public void LineEnd()
        {
            if (!(crlf && TryExpect("\r\n")) && !TryExpect("\n"))
            {
                throw new NotUnderstoodException($"expected the end of the line at character {Position}: {Preview()}");
            }
        }

        public bool TryExpectLine(string line)
        {
            var start = Position;
            if (TryExpect(line) && ((crlf && TryExpect("\r\n")) || TryExpect("\n")))
            {
                return true;
            }

            Position = start;
            return false;
        }

        public void ExpectLine(string line, string structure)
        {
            if (!TryExpectLine(line))
            {
                throw new NotUnderstoodException($"{structure} (at character {Position}: {Preview()})");
            }
        }

        /// <summary>A marker word: capital letters, digits and '-'.</summary>
        public string BareWord()
        {
            var start = Position;
            while (Position < text.Length && (char.IsAsciiLetterUpper(text[Position]) || char.IsAsciiDigit(text[Position]) || text[Position] == '-'))
            {
                Position++;
            }

            return Position > start ? text[start..Position] : throw new NotUnderstoodException($"expected a marker word at character {start}: {Preview()}");
        }

        public int Number(int maximum)
        {
            var start = Position;
            while (Position < text.Length && char.IsAsciiDigit(text[Position]) && Position - start < 10)
            {
                Position++;
            }

            return Position > start && long.Parse(text.AsSpan(start, Position - start), System.Globalization.CultureInfo.InvariantCulture) is var value && value <= maximum
                ? (int)value
                : throw new NotUnderstoodException($"expected an exit code from 0 to {maximum} at character {start}: {Preview()}");
        }

        // sh: inside '...' every character is literal up to the next '; outside, \' is a quote. Nothing else is accepted,
        // because anything else ($, ", unquoted text) would need a shell to evaluate.
        public string ShWord()
        {
            var start = Position;
            var word = new StringBuilder();
            while (Position < text.Length)
            {
                if (text[Position] == '\'')
                {
                    var close = text.IndexOf('\'', Position + 1);
                    if (close < 0)
                    {
                        throw new NotUnderstoodException($"unterminated single-quoted word at character {Position}");
                    }

                    word.Append(text, Position + 1, close - Position - 1);
                    Position = close + 1;
                }
                else if (TryExpect("\\'"))
                {
                    word.Append('\'');
                }
                else
                {
                    break;
                }
            }

            return Position > start ? word.ToString() : throw new NotUnderstoodException($"expected a single-quoted sh word at character {start}: {Preview()}");
        }

        // PowerShell: a verbatim string opens and closes with any of ' ‘ ’ ‚ ‛; two quote characters in a row stand for the second.
        public string PowerShellLiteral()
        {
            var start = Position;
            if (Position >= text.Length || !IsPowerShellQuote(text[Position]))
            {
                throw new NotUnderstoodException($"expected a single-quoted PowerShell string at character {start}: {Preview()}");
            }

            Position++;
            var word = new StringBuilder();
            while (true)
            {
                if (Position >= text.Length)
                {
                    throw new NotUnderstoodException($"unterminated single-quoted PowerShell string at character {start}");
                }

                var c = text[Position++];
                if (IsPowerShellQuote(c))
                {
                    if (Position >= text.Length || !IsPowerShellQuote(text[Position]))
                    {
                        return word.ToString();
                    }

                    c = text[Position++];
                }

                word.Append(c);
            }
        }

        private static bool IsPowerShellQuote(char c) => c is '\'' or '\u2018' or '\u2019' or '\u201A' or '\u201B';

        private string Preview()
        {
            if (Position >= text.Length)
            {
                return "end of script";
            }

            var snippet = text.Substring(Position, Math.Min(30, text.Length - Position));
            return "'" + snippet.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "'";
        }
    }
}
