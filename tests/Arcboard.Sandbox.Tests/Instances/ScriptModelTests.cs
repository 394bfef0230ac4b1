using System.Diagnostics;
using PowerShell = System.Management.Automation.PowerShell;
using System.Text;
using Arcboard.Core.Fleet;
using Arcboard.Core.Scripts;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Instances;

namespace Arcboard.Sandbox.Tests.Instances;

/// <summary>
/// The model must understand exactly the scripts the connector sends, and extract exactly the arguments the real
/// interpreters would pass: both are checked against the connector's own script builder and against /bin/sh and
/// hosted PowerShell.
/// </summary>
public sealed class ScriptModelTests
{
    /// <summary>Values that break naive quoting: quotes of every kind, expansions, separators, newlines, unicode.</summary>
    public static readonly string[] Hostile =
    [
        "plain", "", " ", "it's", "'", "''", "'\\''", "a'\\''b", "$(touch /tmp/arcboard-pwned)", "`id`", "${HOME}", "$HOME",
        "\"double\"", "back\\slash", "trailing\\", "new\nline", "tab\tx", "cr\rlf\n", "*", "~", "?", "[a]", "-n", "--vmid",
        "unicode é ü 中文 🙂", "‘typographic’ ‚low‛", "’'", "';exit 0;'", "$null", "@(1)", "& whoami", "%PATH%",
        "a;b|c&d>e<f", "#comment", " ;; esac", "'; $rc = $LASTEXITCODE }",
    ];

    [Theory]
    [InlineData(Platform.Linux, InstancePlatform.Linux)]
    [InlineData(Platform.Windows, InstancePlatform.Windows)]
    public void The_connectors_probe_script_is_understood(Platform platform, InstancePlatform instancePlatform)
    {
        var (script, problem) = ScriptModel.Parse(OnboardingScripts.ProbeAndGenerateKey(platform), instancePlatform);
        problem.ShouldBeNull();
        script.ShouldBeOfType<ProbeScript>();
    }

    [Theory]
    [InlineData(Platform.Linux, InstancePlatform.Linux)]
    [InlineData(Platform.Windows, InstancePlatform.Windows)]
    public void The_connectors_connect_script_yields_each_instances_arguments_exactly(Platform platform, InstancePlatform instancePlatform)
    {
        var batch = Batch();
        var (script, problem) = ScriptModel.Parse(OnboardingScripts.Connect(platform, batch), instancePlatform);
        problem.ShouldBeNull();
        var connect = script.ShouldBeOfType<ConnectScript>();
        connect.Arms.Select(a => a.InstanceId).ShouldBe(batch.Select(b => b.InstanceId));
        for (var i = 0; i < batch.Count; i++)
        {
            connect.Arms[i].Arguments.ShouldBe(batch[i].Arguments);
        }

        connect.UnknownInstanceMarker.ShouldBe(OnboardingScripts.Markers.UnknownInstance);
        connect.UnknownInstanceExitCode.ShouldBe(OnboardingScripts.UnknownInstanceExitCode);
        connect.ArmsFor("i-0123456789abcdef9").ShouldBeEmpty();
    }

    [Fact]
    public void A_windows_script_with_crlf_line_ends_is_still_understood()
    {
        var batch = Batch();
        var crlf = OnboardingScripts.Connect(Platform.Windows, batch).Replace("\n", "\r\n", StringComparison.Ordinal);
        var (script, problem) = ScriptModel.Parse(crlf, InstancePlatform.Windows);
        problem.ShouldBeNull();
        script.ShouldBeOfType<ConnectScript>().Arms[0].Arguments.ShouldBe(batch[0].Arguments);
    }

    [Theory]
    [InlineData(InstancePlatform.Linux, "echo hello")]
    [InlineData(InstancePlatform.Linux, "case \"$AWS_SSM_INSTANCE_ID\" in\n  'i-1') set -- \"$(id)\" ;;\n  *) echo ARCBOARD-UNKNOWN-INSTANCE; exit 90 ;;\nesac\nazcmagent connect existing --use-saved-key \"$@\"\nrc=$?\necho \"ARCBOARD-CONNECT-EXIT $rc\"\nif [ \"$rc\" -eq 194 ]; then rc=1; fi\nexit $rc\n")]
    [InlineData(InstancePlatform.Linux, "case \"$AWS_SSM_INSTANCE_ID\" in\n  'i-1') set -- unquoted ;;\n  *) echo ARCBOARD-UNKNOWN-INSTANCE; exit 90 ;;\nesac\n")]
    [InlineData(InstancePlatform.Linux, "case \"$AWS_SSM_INSTANCE_ID\" in\n  'i-1') set -- 'a' ;;\n  *) echo ARCBOARD-UNKNOWN-INSTANCE; exit 90 ;;\nesac\nazcmagent connect existing --use-saved-key \"$@\"\nrm -rf /\nexit $rc\n")]
    [InlineData(InstancePlatform.Linux, "case \"$AWS_SSM_INSTANCE_ID\" in\n  'i-1') set -- 'unterminated ;;\n")]
    [InlineData(InstancePlatform.Windows, "Write-Output hello")]
    [InlineData(InstancePlatform.Windows, "$rc = $null\nswitch -Exact -CaseSensitive ($env:AWS_SSM_INSTANCE_ID) {\n  'i-1' { & azcmagent connect existing --use-saved-key \"$env:X\"; $rc = $LASTEXITCODE }\n}\n")]
    public void A_script_the_model_does_not_know_is_refused_with_a_reason(InstancePlatform platform, string text)
    {
        var (script, problem) = ScriptModel.Parse(text, platform);
        script.ShouldBeNull();
        problem.ShouldNotBeNull().Reason.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void The_linux_probe_script_sent_to_windows_is_refused()
    {
        ScriptModel.Parse(OnboardingScripts.ProbeAndGenerateKey(Platform.Linux), InstancePlatform.Windows).Problem.ShouldNotBeNull();
    }

    [Theory]
    [InlineData("'plain'")]
    [InlineData("''")]
    [InlineData("'a'\\''b'")]
    [InlineData("\\''x'")]
    [InlineData("'a''b'")]
    [InlineData("'multi\nline'")]
    [InlineData("'$(id) `id` \"q\" \\n'")]
    public void Sh_words_are_read_as_sh_reads_them(string word)
    {
        var position = 0;
        var modelled = ScriptModel.ReadShWord(word, ref position);
        position.ShouldBe(word.Length);
        RunSh($"printf '%s' {word}").ShouldBe(modelled);
    }

    [Theory]
    [InlineData("'plain'")]
    [InlineData("''")]
    [InlineData("'it''s'")]
    [InlineData("'a’'b'")]
    [InlineData("‘typographic’")]
    [InlineData("'a‚‚b‛‛c'")]
    [InlineData("'$(id) `id` \"q\" $env:PATH'")]
    [InlineData("'multi\nline'")]
    public void PowerShell_literals_are_read_as_powershell_reads_them(string literal)
    {
        var position = 0;
        var modelled = ScriptModel.ReadPowerShellLiteral(literal, ref position);
        position.ShouldBe(literal.Length);
        using var shell = PowerShell.Create();
        var result = shell.AddScript(literal).Invoke();
        result.Single().BaseObject.ShouldBe(modelled);
    }

    [Fact]
    public async Task Hostile_arguments_reach_azcmagent_from_real_sh_and_powershell_exactly_as_the_model_extracts_them()
    {
        var directory = Path.Combine(Path.GetTempPath(), "arcboard-model-corpus-" + Guid.NewGuid().ToString("N")[..8]);
        var bin = Path.Combine(directory, "bin");
        Directory.CreateDirectory(bin);
        try
        {
            // A stand-in azcmagent that prints each argument it received, base64-encoded after a prefix (an empty one too), one per line.
            var fake = Path.Combine(bin, "azcmagent");
            await File.WriteAllTextAsync(fake, "#!/bin/sh\nfor a in \"$@\"; do printf 'arg:'; printf '%s' \"$a\" | base64 -w0; echo; done\n");
            File.SetUnixFileMode(fake, (UnixFileMode)0b111_101_101);
            const string LinuxId = "i-0aaaaaaaaaaaaaaa1";
            const string WindowsId = "i-0bbbbbbbbbbbbbbb1";
            var fleet = new SandboxFleet(
                new FleetDefinition(null, [new AccountDefinition("111111111111", ["us-east-1"])],
                [
                    new InstanceDefinition("111111111111", "us-east-1", LinuxId, InstancePlatform.Linux, InstanceState.Running, SsmStatus.Online, AgentStatus.Installed, new Dictionary<string, string>()),
                    new InstanceDefinition("111111111111", "us-east-1", WindowsId, InstancePlatform.Windows, InstanceState.Running, SsmStatus.Online, AgentStatus.Installed, new Dictionary<string, string>()),
                ]),
                directory,
                TimeProvider.System);
            using var runner = new InstanceRunner(new InstanceEnvironment("https://127.0.0.1:1", "", bin), 2);

            foreach (var (instanceId, platform, instancePlatform) in new[] { (LinuxId, Platform.Linux, InstancePlatform.Linux), (WindowsId, Platform.Windows, InstancePlatform.Windows) })
            {
                // Hostile values in other instances' arms too, so a tokenizer slip shifts this instance's arguments.
                var batch = new List<ConnectParameters> { WithHostile("i-0cccccccccccccccc1", Hostile.Reverse().ToArray()) };
                batch.Add(WithHostile(instanceId, Hostile));
                var text = OnboardingScripts.Connect(platform, batch);
                var (script, problem) = ScriptModel.Parse(text, instancePlatform);
                problem.ShouldBeNull();
                var expected = new[] { "connect", "existing", "--use-saved-key" }.Concat(script.ShouldBeOfType<ConnectScript>().ArmsFor(instanceId).Single().Arguments).ToList();

                var result = await runner.RunAsync(new ScriptRequest(fleet.Find(instanceId)!, Guid.NewGuid().ToString(), text, TimeSpan.FromMinutes(1), null), () => { }, CancellationToken.None);
                result.ExitCode.ShouldBe(0, result.StandardError);
                var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                lines[^1].ShouldBe("ARCBOARD-CONNECT-EXIT 0");
                var received = lines[..^1].Select(Decode).ToList();
                received.ShouldBe(expected, $"{platform}: what the interpreter passed differs from what the model extracted");
                expected.Skip(3).ShouldBe(batch[1].Arguments);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Decode(string line)
    {
        line.ShouldStartWith("arg:");
        return Encoding.UTF8.GetString(Convert.FromBase64String(line[4..]));
    }

    private static ConnectParameters WithHostile(string instanceId, string[] values)
    {
        // ConnectParameters has fixed fields; the hostile values ride in the free-text ones, several per script.
        var parameters = new ConnectParameters(instanceId, values[0], values[1], values[2], values[3], values[4], Guid.NewGuid(), values[5], Guid.NewGuid());
        return parameters;
    }

    private static List<ConnectParameters> Batch()
    {
        var batch = new List<ConnectParameters>();
        for (var i = 0; i + 6 <= Hostile.Length; i += 6)
        {
            batch.Add(WithHostile($"i-0{i:x16}", Hostile[i..(i + 6)]));
        }

        return batch;
    }

    private static string RunSh(string script)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
