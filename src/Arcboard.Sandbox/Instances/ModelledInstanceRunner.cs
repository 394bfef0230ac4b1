using System.Collections;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Arcboard.Agent;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Instances;

/// <summary>
/// Runs Arcboard's two onboarding scripts as a model: no process starts. The script is recognised by its documented
/// structure (<see cref="ScriptModel"/>), <c>azcmagent</c> is Arcboard.Agent called in-process with the instance's own
/// environment (root folder, identity endpoint), and the output is what the real interpreter would print: the same
/// marker lines, the same exit codes, the same SSM verdict on standard error. Any other script fails the invocation.
/// </summary>
public sealed partial class ModelledInstanceRunner : IScriptRunner
{
    private readonly InstanceEnvironment _environment;
    private readonly TimeProvider _time;
    private readonly InstanceLatencies _latencies;
    private readonly SemaphoreSlim _slots;
    private readonly HttpMessageInvoker _identityTransport;
    private readonly AgentServices _agentServices;

    public ModelledInstanceRunner(InstanceEnvironment environment, KeyPool keys, TimeProvider time, InstanceLatencies latencies, int maxConcurrency)
    {
        _environment = environment;
        _time = time;
        _latencies = latencies;
        _slots = new SemaphoreSlim(Math.Max(1, maxConcurrency));
        Keys = keys;
        _identityTransport = new HttpMessageInvoker(CreateIdentityHandler(environment.CaCertificatePath), disposeHandler: true);
        _agentServices = new AgentServices { CreateKey = keys.Next, IdentityTransport = _identityTransport };
    }

    public KeyPool Keys { get; }

    public IReadOnlyList<string> Modelled { get; } =
    [
        "scripts: Arcboard's probe/genkey and connect scripts interpreted by a model (docs/contracts.md section 3), not run by sh or PowerShell; any other script fails",
        "agent: Arcboard.Agent (azcmagent) called in-process with each instance's own root folder and environment, not started as a process",
        "keys: distinct RSA-2048 keys built from a pool of pre-generated primes instead of a prime search per genkey",
        "identity: the agent's proof of possession goes over real HTTPS to the sandbox's identity service, on one shared connection pool",
    ];

    public async Task<ScriptResult> RunAsync(ScriptRequest request, Action started, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = _time.CreateTimer(_ => SafeCancel(timeout), null, request.Timeout, Timeout.InfiniteTimeSpan);
        var instance = request.Instance;
        var linux = instance.Platform == InstancePlatform.Linux;
        try
        {
            started();
            await DelayAsync(_latencies.ScriptRun, timeout.Token);
            var (script, problem) = ScriptModel.Parse(request.Script, instance.Platform);
            var output = new StringBuilder();
            var error = new StringBuilder();
            int exitCode;
            if (problem is not null)
            {
                error.Append("sandbox (modelled instance): this script is not one the model understands, and the model never guesses: ")
                    .Append(problem.Reason)
                    .Append(". Run the sandbox with --instance-mode process to run arbitrary scripts.\n");
                exitCode = 127;
            }
            else if (request.WorkingDirectory is not null)
            {
                error.Append("sandbox (modelled instance): workingDirectory is not modelled; send Arcboard's scripts without it.\n");
                exitCode = 127;
            }
            else
            {
                exitCode = script switch
                {
                    ProbeScript => await ProbeAsync(instance, output, error, timeout.Token),
                    ConnectScript connect => await ConnectAsync(request, connect, output, error, timeout.Token),
                    _ => throw new InvalidOperationException("unknown modelled script"),
                };
            }

            var stderr = error.ToString();
            if (linux && exitCode != 0)
            {
                stderr = AppendLine(stderr, $"failed to run commands: exit status {exitCode}");
            }

            return new ScriptResult(ScriptOutcome.Completed, exitCode, output.ToString(), stderr);
        }
        catch (OperationCanceledException)
        {
            return cancellationToken.IsCancellationRequested
                ? new ScriptResult(ScriptOutcome.Cancelled, -1, "", "")
                : new ScriptResult(ScriptOutcome.TimedOut, -1, "", "Command execution timed out.");
        }
    }

    private async Task<int> ProbeAsync(SandboxInstance instance, StringBuilder output, StringBuilder error, CancellationToken cancellationToken)
    {
        var windows = instance.Platform == InstancePlatform.Windows;
        if (!instance.HasAgent)
        {
            output.Append("ARCBOARD-AGENT-ABSENT\n");
            return 0;
        }

        // The genkey's time is spent before the work, and the whole probe holds one slot: an observer sees only the
        // finished invocation, and an instance queueing twice would wait behind the whole fleet's first call.
        await DelayAsync(_latencies.Genkey, cancellationToken);
        await _slots.WaitAsync(cancellationToken);
        try
        {
            // show -j with its standard error dropped (2>/dev/null, 2>$null); lines joined without separators.
            var show = await RunAgentAsync(instance, ["show", "-j"], cancellationToken);
            var shown = show.Output.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
            // grep is case-sensitive; PowerShell's -match is not.
            var connected = windows ? ConnectedPatternIgnoreCase().IsMatch(shown) : ConnectedPatternSh().IsMatch(shown);
            if (connected)
            {
                output.Append("ARCBOARD-CONNECTED ").Append(shown).Append('\n');
                return 0;
            }

            var genkey = await RunAgentAsync(instance, ["genkey"], cancellationToken);
            error.Append(genkey.Error);
            if (genkey.ExitCode != 0)
            {
                output.Append("ARCBOARD-GENKEY-FAILED ").Append(genkey.ExitCode).Append('\n');
                return 1;
            }

            var key = genkey.Output.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
            output.Append("ARCBOARD-KEY ").Append(key).Append('\n');
            return 0;
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<int> ConnectAsync(ScriptRequest request, ConnectScript script, StringBuilder output, StringBuilder error, CancellationToken cancellationToken)
    {
        var instance = request.Instance;
        var arms = script.ArmsFor(instance.Id);
        if (arms.Count == 0)
        {
            output.Append(script.UnknownInstanceMarker).Append('\n');
            return script.UnknownInstanceExitCode;
        }

        int rc;
        if (!instance.HasAgent)
        {
            if (instance.Platform == InstancePlatform.Windows)
            {
                // The call fails with an error record and $LASTEXITCODE keeps the value the run started with.
                error.Append("The term 'azcmagent' is not recognized as a name of a cmdlet, function, script file, or executable program.\n");
                rc = 0;
            }
            else
            {
                // dash names the script file the SSM agent wrote and the line of the call.
                error.Append($"/var/lib/amazon/ssm/{instance.Id}/document/orchestration/{request.CommandId}/awsrunShellScript/0.awsrunShellScript/_script.sh: {script.CallLine}: azcmagent: not found\n");
                rc = 127;
            }
        }
        else
        {
            rc = 0;
            foreach (var arm in arms)
            {
                await DelayAsync(_latencies.Connect, cancellationToken);
                var connect = await AgentAsync(instance, ["connect", "existing", "--use-saved-key", .. arm.Arguments], cancellationToken);
                output.Append(connect.Output);
                error.Append(connect.Error);
                rc = connect.ExitCode;
            }
        }

        output.Append(ScriptModel.ConnectExitMarker).Append(' ').Append(rc).Append('\n');
        return instance.Platform == InstancePlatform.Windows ? (rc == 3010 ? 1 : rc) : (rc == 194 ? 1 : rc & 0xff);
    }

    private async Task<(int ExitCode, string Output, string Error)> AgentAsync(SandboxInstance instance, string[] args, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await RunAgentAsync(instance, args, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<(int ExitCode, string Output, string Error)> RunAgentAsync(SandboxInstance instance, string[] args, CancellationToken cancellationToken)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await AgentCli.RunAsync(args, stdout, stderr, EnvironmentFor(instance), _time, _agentServices, cancellationToken);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The variables the agent sees (docs/contracts.md section 3), as on a process-mode instance.</summary>
    private Hashtable EnvironmentFor(SandboxInstance instance) => new()
    {
        ["AWS_SSM_INSTANCE_ID"] = instance.Id,
        ["AWS_SSM_REGION_NAME"] = instance.Region,
        ["AZCMAGENT_ROOT"] = instance.RootDirectory,
        ["AZCMAGENT_OS"] = instance.Platform.ToWire(),
        ["AZCMAGENT_IDENTITY_ENDPOINT"] = _environment.IdentityEndpoint,
        ["AZCMAGENT_CA_CERT"] = _environment.CaCertificatePath,
        ["HOSTNAME"] = instance.PrivateDnsName.Split('.')[0],
        ["COMPUTERNAME"] = "EC2AMAZ-" + instance.Id[^7..].ToUpperInvariant(),
    };

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, _time, cancellationToken) : Task.CompletedTask;

    private static void SafeCancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run ended before its timeout.
        }
    }

    // One pool for every instance's proof of possession: thousands of runs share a few connections, not a socket each.
    private static SocketsHttpHandler CreateIdentityHandler(string caCertificatePath)
    {
        var pinned = X509Certificate2.CreateFromPem(File.ReadAllText(caCertificatePath)).RawData;
        return new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            MaxConnectionsPerServer = 32,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned),
            },
        };
    }

    private static string AppendLine(string text, string line) => text.Length == 0 || text.EndsWith('\n') ? text + line : text + "\n" + line;

    [GeneratedRegex("\"status\" *: *\"Connected\"")]
    private static partial Regex ConnectedPatternSh();

    [GeneratedRegex("\"status\"\\s*:\\s*\"Connected\"", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConnectedPatternIgnoreCase();

    public void Dispose()
    {
        _identityTransport.Dispose();
        _slots.Dispose();
    }
}
