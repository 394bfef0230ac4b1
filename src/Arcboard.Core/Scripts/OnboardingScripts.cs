using System.Text;
using Arcboard.Core.Fleet;

namespace Arcboard.Core.Scripts;

/// <summary>
/// The scripts Arcboard sends over Run Command. Each prints marker lines (<see cref="Markers"/>) that the
/// connector parses, so that agent chatter, SSM banners or a truncated tail cannot be mistaken for a result.
/// One script serves a whole batch of up to 50 instances: per-instance values are chosen inside it by
/// <c>AWS_SSM_INSTANCE_ID</c>, which the SSM agent sets.
/// </summary>
public static class OnboardingScripts
{
    /// <summary>Exit code for a script run on an instance it has no parameters for.</summary>
    public const int UnknownInstanceExitCode = 90;

    public static class Markers
    {
        public const string AgentAbsent = "ARCBOARD-AGENT-ABSENT";
        public const string AlreadyConnected = "ARCBOARD-CONNECTED";
        public const string Key = "ARCBOARD-KEY";
        public const string GenkeyFailed = "ARCBOARD-GENKEY-FAILED";
        public const string ConnectExit = "ARCBOARD-CONNECT-EXIT";
        public const string UnknownInstance = "ARCBOARD-UNKNOWN-INSTANCE";
    }

    /// <summary>
    /// Probes the agent and, when it is installed and not connected, has it make a key pair. Already-connected
    /// machines are left untouched: a new key would overwrite nothing useful and would be a change nobody asked for.
    /// </summary>
    public static string ProbeAndGenerateKey(Platform platform) => platform switch
    {
        Platform.Linux => """
            # Arcboard: probe the Azure Connected Machine agent, then have it make a key pair (the private key stays here).
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
            """,
        Platform.Windows => """
            # Arcboard: probe the Azure Connected Machine agent, then have it make a key pair (the private key stays here).
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
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(platform), platform, null),
    };

    /// <summary>Connects every instance of the batch with its own parameters; any other instance refuses to act.</summary>
    public static string Connect(Platform platform, IReadOnlyCollection<ConnectParameters> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            throw new ArgumentException("A connect script needs at least one instance.", nameof(batch));
        }

        return platform switch
        {
            Platform.Linux => ConnectSh(batch),
            Platform.Windows => ConnectPowerShell(batch),
            _ => throw new ArgumentOutOfRangeException(nameof(platform), platform, null),
        };
    }

    private static string ConnectSh(IReadOnlyCollection<ConnectParameters> batch)
    {
        var script = new StringBuilder();
        script.AppendLine("# Arcboard: connect the agent with the key it saved at genkey; no secret is in this script.");
        script.AppendLine("case \"$AWS_SSM_INSTANCE_ID\" in");
        foreach (var instance in batch)
        {
            script.Append("  ").Append(ScriptQuoting.Sh(instance.InstanceId)).Append(") set --");
            foreach (var argument in instance.Arguments)
            {
                script.Append(' ').Append(ScriptQuoting.Sh(argument));
            }

            script.AppendLine(" ;;");
        }

        script.AppendLine($"  *) echo {Markers.UnknownInstance}; exit {UnknownInstanceExitCode} ;;");
        script.AppendLine("esac");
        script.AppendLine("azcmagent connect existing --use-saved-key \"$@\"");
        script.AppendLine("rc=$?");
        script.AppendLine($"echo \"{Markers.ConnectExit} $rc\"");
        // 194 would make the SSM agent reboot the instance.
        script.AppendLine("if [ \"$rc\" -eq 194 ]; then rc=1; fi");
        script.AppendLine("exit $rc");
        return script.ToString();
    }

    private static string ConnectPowerShell(IReadOnlyCollection<ConnectParameters> batch)
    {
        var script = new StringBuilder();
        script.AppendLine("# Arcboard: connect the agent with the key it saved at genkey; no secret is in this script.");
        script.AppendLine("$rc = $null");
        // Each argument is written as a quoted literal on the call itself: PowerShell on Linux globs splatted
        // array elements such as '*' or '~' when it calls a native command, but never a quoted literal.
        script.AppendLine("switch -Exact -CaseSensitive ($env:AWS_SSM_INSTANCE_ID) {");
        foreach (var instance in batch)
        {
            script.Append("  ").Append(ScriptQuoting.PowerShell(instance.InstanceId)).Append(" { & azcmagent connect existing --use-saved-key ");
            script.AppendJoin(' ', instance.Arguments.Select(ScriptQuoting.PowerShell));
            script.AppendLine("; $rc = $LASTEXITCODE }");
        }

        script.AppendLine("}");
        script.AppendLine($"if ($null -eq $rc) {{ Write-Output '{Markers.UnknownInstance}'; exit {UnknownInstanceExitCode} }}");
        script.AppendLine($"Write-Output \"{Markers.ConnectExit} $rc\"");
        // 3010 would make the SSM agent reboot the instance.
        script.AppendLine("if ($rc -eq 3010) { $rc = 1 }");
        script.AppendLine("exit $rc");
        return script.ToString();
    }
}
