using System.Text;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;

namespace Arcboard.Core.Scripts;

/// <summary>
/// The script that tells an instance's agent to forget its Azure connection before Arcboard deletes the machine.
/// One script serves a batch of up to 50 instances; each instance finds, by <c>AWS_SSM_INSTANCE_ID</c>, the resource
/// id of the machine being deleted, and disconnects only when its agent is connected to exactly that machine: an
/// agent that someone connected elsewhere is left alone.
/// </summary>
public static class OffboardScripts
{
    public static class Markers
    {
        public const string AgentAbsent = OnboardingScripts.Markers.AgentAbsent;
        public const string NotConnected = "ARCBOARD-NOT-CONNECTED";
        public const string Elsewhere = "ARCBOARD-CONNECTED-ELSEWHERE";
        public const string DisconnectExit = "ARCBOARD-DISCONNECT-EXIT";
        public const string UnknownInstance = OnboardingScripts.Markers.UnknownInstance;
    }

    /// <param name="batch">Instance id to the ARM resource id of the machine Arcboard is about to delete for it.</param>
    public static string Disconnect(Platform platform, IReadOnlyCollection<KeyValuePair<string, string>> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            throw new ArgumentException("A disconnect script needs at least one instance.", nameof(batch));
        }

        return platform switch
        {
            Platform.Linux => DisconnectSh(batch),
            Platform.Windows => DisconnectPowerShell(batch),
            _ => throw new ArgumentOutOfRangeException(nameof(platform), platform, null),
        };
    }

    private static string DisconnectSh(IReadOnlyCollection<KeyValuePair<string, string>> batch)
    {
        var script = new StringBuilder();
        script.AppendLine("# Arcboard: make the agent forget its Azure connection; the machine is deleted through ARM afterwards.");
        script.AppendLine("case \"$AWS_SSM_INSTANCE_ID\" in");
        foreach (var (instanceId, resourceId) in batch)
        {
            script.Append("  ").Append(ScriptQuoting.Sh(instanceId)).Append(") expected=").Append(ScriptQuoting.Sh(resourceId)).AppendLine(" ;;");
        }

        script.AppendLine($"  *) echo {Markers.UnknownInstance}; exit {OnboardingScripts.UnknownInstanceExitCode} ;;");
        script.AppendLine("esac");
        script.AppendLine("if ! command -v azcmagent >/dev/null 2>&1; then");
        script.AppendLine($"  echo {Markers.AgentAbsent}");
        script.AppendLine("  exit 0");
        script.AppendLine("fi");
        script.AppendLine("show=$(azcmagent show -j 2>/dev/null | tr -d '\\r\\n')");
        script.AppendLine("current=$(printf '%s' \"$show\" | sed -n 's/.*\"resourceId\" *: *\"\\([^\"]*\\)\".*/\\1/p')");
        script.AppendLine("if [ -z \"$current\" ]; then");
        script.AppendLine($"  echo {Markers.NotConnected}");
        script.AppendLine("  exit 0");
        script.AppendLine("fi");
        // Resource ids compare without regard to case, as ARM treats them.
        script.AppendLine("lower() { printf '%s' \"$1\" | tr '[:upper:]' '[:lower:]'; }");
        script.AppendLine("if [ \"$(lower \"$current\")\" != \"$(lower \"$expected\")\" ]; then");
        script.AppendLine($"  printf '{Markers.Elsewhere} %s\\n' \"$current\"");
        script.AppendLine("  exit 0");
        script.AppendLine("fi");
        script.AppendLine("azcmagent disconnect --force-local-only");
        script.AppendLine("rc=$?");
        script.AppendLine($"echo \"{Markers.DisconnectExit} $rc\"");
        // 194 would make the SSM agent reboot the instance.
        script.AppendLine("if [ \"$rc\" -eq 194 ]; then rc=1; fi");
        script.AppendLine("exit $rc");
        return script.ToString();
    }

    private static string DisconnectPowerShell(IReadOnlyCollection<KeyValuePair<string, string>> batch)
    {
        var script = new StringBuilder();
        script.AppendLine("# Arcboard: make the agent forget its Azure connection; the machine is deleted through ARM afterwards.");
        script.AppendLine("$expected = $null");
        script.AppendLine("switch -Exact -CaseSensitive ($env:AWS_SSM_INSTANCE_ID) {");
        foreach (var (instanceId, resourceId) in batch)
        {
            script.Append("  ").Append(ScriptQuoting.PowerShell(instanceId)).Append(" { $expected = ").Append(ScriptQuoting.PowerShell(resourceId)).AppendLine(" }");
        }

        script.AppendLine("}");
        script.AppendLine($"if ($null -eq $expected) {{ Write-Output '{Markers.UnknownInstance}'; exit {OnboardingScripts.UnknownInstanceExitCode} }}");
        script.AppendLine("if ($null -eq (Get-Command azcmagent -ErrorAction SilentlyContinue)) {");
        script.AppendLine($"  Write-Output '{Markers.AgentAbsent}'");
        script.AppendLine("  exit 0");
        script.AppendLine("}");
        script.AppendLine("$show = (& azcmagent show -j 2>$null) -join ''");
        script.AppendLine("$current = ''");
        script.AppendLine("try { $current = [string](($show | ConvertFrom-Json).resourceId) } catch { $current = '' }");
        script.AppendLine("if ([string]::IsNullOrEmpty($current)) {");
        script.AppendLine($"  Write-Output '{Markers.NotConnected}'");
        script.AppendLine("  exit 0");
        script.AppendLine("}");
        script.AppendLine("if (-not [string]::Equals($current, $expected, [System.StringComparison]::OrdinalIgnoreCase)) {");
        script.AppendLine($"  Write-Output \"{Markers.Elsewhere} $current\"");
        script.AppendLine("  exit 0");
        script.AppendLine("}");
        script.AppendLine("& azcmagent disconnect --force-local-only");
        script.AppendLine("$rc = $LASTEXITCODE");
        script.AppendLine($"Write-Output \"{Markers.DisconnectExit} $rc\"");
        // 3010 would make the SSM agent reboot the instance.
        script.AppendLine("if ($rc -eq 3010) { $rc = 1 }");
        script.AppendLine("exit $rc");
        return script.ToString();
    }

    public static DisconnectResult ReadDisconnect(CommandInvocation invocation)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var lines = invocation.StandardOutput.Split('\n').Select(l => l.TrimEnd('\r').Trim()).ToList();
        if (lines.Contains(Markers.UnknownInstance))
        {
            return new DisconnectResult(DisconnectVerdict.Failed, "the disconnect script had no entry for this instance");
        }

        if (lines.Contains(Markers.AgentAbsent))
        {
            return new DisconnectResult(DisconnectVerdict.NotConnectedHere, "azcmagent is not installed on the instance");
        }

        if (lines.Contains(Markers.NotConnected))
        {
            return new DisconnectResult(DisconnectVerdict.NotConnectedHere, "the agent was not connected");
        }

        var elsewhere = lines.FirstOrDefault(l => l.StartsWith(Markers.Elsewhere + " ", StringComparison.Ordinal));
        if (elsewhere is not null)
        {
            return new DisconnectResult(DisconnectVerdict.NotConnectedHere, $"the agent is connected to {ScriptResults.Clean(elsewhere[(Markers.Elsewhere.Length + 1)..])}, not to this machine, so it was left connected");
        }

        var exit = lines.FirstOrDefault(l => l.StartsWith(Markers.DisconnectExit + " ", StringComparison.Ordinal));
        if (exit is not null && int.TryParse(exit.AsSpan(Markers.DisconnectExit.Length + 1), out var code))
        {
            if (code == 0)
            {
                return new DisconnectResult(DisconnectVerdict.Disconnected, "the agent disconnected");
            }

            var agentError = invocation.StandardError.Split('\n').Concat(lines).Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("AZCM", StringComparison.Ordinal));
            return new DisconnectResult(DisconnectVerdict.Failed, $"azcmagent disconnect failed with exit code {code}{(agentError is null ? "" : $": {ScriptResults.Clean(agentError)}")}");
        }

        return new DisconnectResult(DisconnectVerdict.Failed, $"the disconnect script ended with status {invocation.Status} and exit code {invocation.ResponseCode} without a recognisable result");
    }
}

public enum DisconnectVerdict
{
    Disconnected,
    NotConnectedHere,
    Failed,
}

public sealed record DisconnectResult(DisconnectVerdict Verdict, string Reason);
