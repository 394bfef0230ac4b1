using System.Collections;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Instances;

/// <summary>
/// Runs scripts on simulated instances for real: Linux ones with <c>/bin/sh</c> on a script file (as the SSM agent
/// does), Windows ones in hosted PowerShell. At most <c>maxConcurrency</c> scripts run at once.
/// </summary>
public sealed class InstanceRunner(InstanceEnvironment environment, int maxConcurrency) : IScriptRunner
{
    /// <summary>More than any API returns (24,000 characters), so truncation is the API's business, not ours.</summary>
    private const int CaptureLimit = 64 * 1024;

    private readonly SemaphoreSlim _slots = new(Math.Max(1, maxConcurrency));

    // Environment variables are process-wide and hosted PowerShell reads them from the process (and so do the native
    // commands it starts), so Windows scripts run one at a time with the instance's variables set around each run:
    // one at a time in the whole process, since several sandboxes (tests start many) share those variables.
    private static readonly SemaphoreSlim PowerShellLock = new(1);

    // Read once per process, before any runner exists and so before any script runs: a PowerShell script sets the
    // process-wide PATH (with the agent's folder) while it runs, and a script started meanwhile, or a runner created
    // meanwhile, must not inherit an agent it does not have.
    private static readonly string BasePath = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";

    public InstanceEnvironment Environment => environment;

    public IReadOnlyList<string> Modelled => [];

    public async Task<ScriptResult> RunAsync(ScriptRequest request, Action started, CancellationToken cancellationToken)
    {
        try
        {
            await _slots.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return new ScriptResult(ScriptOutcome.Cancelled, -1, "", "");
        }

        try
        {
            started();
            return request.Instance.Platform == InstancePlatform.Windows
                ? await RunPowerShellAsync(request, cancellationToken)
                : await RunShellAsync(request, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The variables a script sees (docs/contracts.md section 3).</summary>
    public Dictionary<string, string> VariablesFor(SandboxInstance instance)
    {
        var path = BasePath;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AWS_SSM_INSTANCE_ID"] = instance.Id,
            ["AWS_SSM_REGION_NAME"] = instance.Region,
            ["AZCMAGENT_ROOT"] = instance.RootDirectory,
            ["AZCMAGENT_OS"] = instance.Platform.ToWire(),
            ["AZCMAGENT_IDENTITY_ENDPOINT"] = environment.IdentityEndpoint,
            ["AZCMAGENT_CA_CERT"] = environment.CaCertificatePath,
            ["HOSTNAME"] = instance.PrivateDnsName.Split('.')[0],
            ["PATH"] = instance.HasAgent ? environment.AgentBinDirectory + Path.PathSeparator + path : path,
        };
        return variables;
    }

    private async Task<ScriptResult> RunShellAsync(ScriptRequest request, CancellationToken cancellationToken)
    {
        var instance = request.Instance;
        var folder = Path.Combine(instance.RootDirectory, "var", "lib", "amazon", "ssm", instance.Id, "document", "orchestration", request.CommandId, "awsrunShellScript", "0.awsrunShellScript");
        Directory.CreateDirectory(folder);
        var scriptPath = Path.Combine(folder, "_script.sh");
        await File.WriteAllTextAsync(scriptPath, request.Script, cancellationToken);

        var workingDirectory = ResolveWorkingDirectory(instance, request.WorkingDirectory);
        if (workingDirectory is null)
        {
            return new ScriptResult(ScriptOutcome.Completed, 1, "", $"Invalid workingDirectory {request.WorkingDirectory}, directory doesn't exist.\nfailed to run commands: exit status 1");
        }

        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(scriptPath);
        foreach (var (name, value) in VariablesFor(instance))
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("/bin/sh did not start.");
        process.StandardInput.Close();
        var stdout = CaptureAsync(process.StandardOutput);
        var stderr = CaptureAsync(process.StandardError);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Timeout);
        var outcome = ScriptOutcome.Completed;
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            outcome = cancellationToken.IsCancellationRequested ? ScriptOutcome.Cancelled : ScriptOutcome.TimedOut;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It ended on its own between the timeout and the kill.
            }

            await process.WaitForExitAsync(CancellationToken.None);
        }

        var output = await stdout;
        var error = await stderr;
        if (outcome == ScriptOutcome.TimedOut)
        {
            error = AppendLine(error, "Command execution timed out.");
        }

        return outcome == ScriptOutcome.Completed
            ? new ScriptResult(outcome, process.ExitCode, output, process.ExitCode == 0 ? error : AppendLine(error, $"failed to run commands: exit status {process.ExitCode}"))
            : new ScriptResult(outcome, -1, output, error);
    }

    private async Task<ScriptResult> RunPowerShellAsync(ScriptRequest request, CancellationToken cancellationToken)
    {
        var instance = request.Instance;
        var folder = Path.Combine(instance.RootDirectory, "ProgramData", "Amazon", "SSM", "InstanceData", instance.Id, "document", "orchestration", request.CommandId, "awsrunPowerShellScript", "0.awsrunPowerShellScript");
        Directory.CreateDirectory(folder);
        var scriptPath = Path.Combine(folder, "_script.ps1");
        await File.WriteAllTextAsync(scriptPath, request.Script, cancellationToken);

        var workingDirectory = ResolveWorkingDirectory(instance, request.WorkingDirectory);
        if (workingDirectory is null)
        {
            return new ScriptResult(ScriptOutcome.Completed, 1, "", $"Invalid workingDirectory {request.WorkingDirectory}, directory doesn't exist.");
        }

        try
        {
            await PowerShellLock.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return new ScriptResult(ScriptOutcome.Cancelled, -1, "", "");
        }

        var saved = new Dictionary<string, string?>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, value) in VariablesFor(instance))
            {
                saved[name] = System.Environment.GetEnvironmentVariable(name);
                System.Environment.SetEnvironmentVariable(name, value);
            }

            return await InvokePowerShellAsync(scriptPath, workingDirectory, request.Timeout, cancellationToken);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                System.Environment.SetEnvironmentVariable(name, value);
            }

            PowerShellLock.Release();
        }
    }

    // AWS-RunPowerShellScript runs the file and reports $LASTEXITCODE: 'exit N' gives N, a native command's exit code
    // carries through, and an uncaught terminating error (throw) gives 1. Every stream is merged so the output keeps
    // its order; error records are then routed to standard error.
    private const string Wrapper = """
        param([string]$ScriptPath)
        $global:LASTEXITCODE = 0
        $global:__arcboardThrown = $false
        try {
            & $ScriptPath *>&1 | ForEach-Object {
                if ($_ -is [string] -or $_ -is [System.Management.Automation.ErrorRecord] -or $_ -is [System.Management.Automation.InformationRecord] -or $_ -is [System.Management.Automation.WarningRecord] -or $_ -is [System.Management.Automation.VerboseRecord] -or $_ -is [System.Management.Automation.DebugRecord]) { $_ }
                else { $_ | Out-String -Stream -Width 4096 }
            }
        } catch {
            $global:__arcboardThrown = $true
            $_
        }
        """;

    private static async Task<ScriptResult> InvokePowerShellAsync(string scriptPath, string workingDirectory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var state = InitialSessionState.CreateDefault2();
        using var runspace = RunspaceFactory.CreateRunspace(state);
        runspace.Open();
        runspace.SessionStateProxy.Path.SetLocation(WildcardPattern.Escape(workingDirectory));
        using var shell = PowerShell.Create(runspace);
        shell.AddScript(Wrapper).AddParameter("ScriptPath", scriptPath);

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var output = new PSDataCollection<PSObject>();
        output.DataAdded += (_, e) =>
        {
            var item = output[e.Index]?.BaseObject;
            var (target, text) = item switch
            {
                ErrorRecord error => (stderr, error.ToString()),
                WarningRecord warning => (stdout, "WARNING: " + warning.Message),
                VerboseRecord verbose => (stdout, "VERBOSE: " + verbose.Message),
                DebugRecord debug => (stdout, "DEBUG: " + debug.Message),
                InformationRecord information => (stdout, information.MessageData?.ToString() ?? ""),
                null => (stdout, ""),
                var other => (stdout, other.ToString() ?? ""),
            };
            lock (target)
            {
                if (target.Length < CaptureLimit)
                {
                    target.Append(text).Append('\n');
                }
            }
        };

        var invocation = shell.InvokeAsync<PSObject, PSObject>(null, output);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        var finished = await Task.WhenAny(invocation, Task.Delay(Timeout.Infinite, timer.Token));
        if (finished != invocation)
        {
            await shell.StopAsync(null, null);
            try
            {
                await invocation;
            }
            catch (PipelineStoppedException)
            {
                // Expected: we stopped it.
            }

            var outcome = cancellationToken.IsCancellationRequested ? ScriptOutcome.Cancelled : ScriptOutcome.TimedOut;
            return new ScriptResult(outcome, -1, stdout.ToString(), stderr + (outcome == ScriptOutcome.TimedOut ? "Command execution timed out." : ""));
        }

        try
        {
            await invocation;
        }
        catch (RuntimeException ex)
        {
            stderr.Append(ex.Message).Append('\n');
            return new ScriptResult(ScriptOutcome.Completed, 1, stdout.ToString(), stderr.ToString());
        }

        foreach (var error in shell.Streams.Error)
        {
            stderr.Append(error).Append('\n');
        }

        var thrown = runspace.SessionStateProxy.GetVariable("__arcboardThrown") is true;
        var lastExitCode = runspace.SessionStateProxy.GetVariable("LASTEXITCODE");
        var exitCode = thrown ? 1 : lastExitCode switch
        {
            int code => code,
            PSObject { BaseObject: int code } => code,
            null => 0,
            var other => int.TryParse(other.ToString(), out var parsed) ? parsed : 1,
        };
        return new ScriptResult(ScriptOutcome.Completed, exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The instance folder for a working directory given as an absolute path on the instance; null when it does not exist.</summary>
    private static string? ResolveWorkingDirectory(SandboxInstance instance, string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested))
        {
            return instance.RootDirectory;
        }

        var relative = requested.Replace('\\', '/');
        if (relative.Length >= 2 && relative[1] == ':')
        {
            relative = relative[2..];
        }

        relative = relative.TrimStart('/');
        var full = Path.GetFullPath(Path.Combine(instance.RootDirectory, relative));
        var root = Path.GetFullPath(instance.RootDirectory);
        return full.StartsWith(root, StringComparison.Ordinal) && Directory.Exists(full) ? full : null;
    }

    // The SSM agent adds its own verdict to standard error on a line of its own.
    private static string AppendLine(string text, string line) => text.Length == 0 || text.EndsWith('\n') ? text + line : text + "\n" + line;

    private static async Task<string> CaptureAsync(StreamReader reader)
    {
        var text = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            // Keep reading past the limit so the script never blocks on a full pipe.
            if (text.Length < CaptureLimit)
            {
                text.Append(buffer, 0, Math.Min(read, CaptureLimit - text.Length));
            }
        }

        return text.ToString();
    }

    public void Dispose()
    {
        _slots.Dispose();
    }
}
