using System.Diagnostics;
using System.Management.Automation;
using Platform = Arcboard.Core.Fleet.Platform;
using Arcboard.Core.Scripts;

namespace Arcboard.EndToEnd.Tests;

/// <summary>
/// Every value Arcboard puts into a script is run through the real interpreters: the real /bin/sh and real
/// (hosted) PowerShell must receive it byte for byte and must run nothing it contains.
/// </summary>
public sealed class HostileValueTests : IDisposable
{
    public static readonly TheoryData<string> Hostile = new()
    {
        "plain",
        "it's",
        "''",
        "\"double\" quotes",
        "$(touch CANARY)",
        "`touch CANARY`",
        "${HOME}",
        "$HOME",
        "a; touch CANARY",
        "a && touch CANARY",
        "a | touch CANARY",
        "line1\ntouch CANARY\nline3",
        "carriage\r\nreturn",
        "tab\there",
        "%PATH% %s %n",
        "back\\slash\\",
        "‘typographic’ ‚quotes‛ ' $(touch CANARY)",
        "' ; touch CANARY ; '",
        "'; touch CANARY; echo '",
        "$(touch CANARY)'`touch CANARY`'\"$(touch CANARY)\"",
        "@(touch CANARY) $env:PATH ${function:Get-Date}",
        "unicode: é ß 東京 🚀",
        "-dash-leading",
        "--resource-group evil",
        "*",
        "~",
        "!",
        new string('x', 5000),
        "%",
        "100%",
        "%%",
        "%1 %~dp0",
        "lone\rcarriage",
        "trailing newline\n",
        "\u2028line separator\u0085next line",
        "[a-z]*",
        "?",
        "i-0123456789abcdef0) touch CANARY ;; *",
        "$env:AWS_SSM_INSTANCE_ID",
        "valid surrogate pair: \ud83d\ude80",
        string.Concat(Enumerable.Repeat("'$(touch CANARY)`%\"\r\n", 2000)),
    };

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("arcboard-hostile-");

    private string Canary => Path.Combine(_folder.FullName, "CANARY");

    private string ArgsFile => Path.Combine(_folder.FullName, "args.txt");

    public void Dispose() => _folder.Delete(recursive: true);

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task Sh_receives_the_value_exactly_and_runs_nothing_in_it(string value)
    {
        var script = $"printf '%s' {ScriptQuoting.Sh(value)}";

        var output = await RunShAsync(script, new Dictionary<string, string>());

        output.ShouldBe(value);
        File.Exists(Canary).ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void PowerShell_receives_the_value_exactly_and_runs_nothing_in_it(string value)
    {
        var results = RunPowerShell($"Set-Location {ScriptQuoting.PowerShell(_folder.FullName)}; [System.Console]::Out.Flush(); Write-Output {ScriptQuoting.PowerShell(value)}", new Dictionary<string, string>());

        results.ShouldBe([value]);
        File.Exists(Canary).ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task The_sh_connect_script_passes_every_argument_to_the_agent_exactly(string value)
    {
        var (script, expected, environment) = ConnectScript(Platform.Linux, value);

        await RunShAsync(script, environment);

        ArgumentsFrom(File.ReadAllText(ArgsFile)).ShouldBe(expected);
        File.Exists(Canary).ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void The_PowerShell_connect_script_passes_every_argument_to_the_agent_exactly(string value)
    {
        var (script, expected, environment) = ConnectScript(Platform.Windows, value);

        RunPowerShell(script, environment);

        ArgumentsFrom(File.ReadAllText(ArgsFile)).ShouldBe(expected);
        File.Exists(Canary).ShouldBeFalse();
    }

    [Fact]
    public void Values_that_cannot_travel_intact_are_refused()
    {
        Should.Throw<ArgumentException>(() => ScriptQuoting.Sh("a\0b"));
        Should.Throw<ArgumentException>(() => ScriptQuoting.PowerShell("a\0b"));
        Should.Throw<ArgumentException>(() => ScriptQuoting.Sh("lone \ud800 surrogate"));
        Should.Throw<ArgumentException>(() => ScriptQuoting.PowerShell("lone \ud800 surrogate"));
        Should.Throw<ArgumentException>(() => ScriptQuoting.Sh("lone low \udc00 surrogate"));
        Should.Throw<ArgumentException>(() => ScriptQuoting.PowerShell("reversed pair \ude80\ud83d"));
        Should.Throw<ArgumentException>(() => ScriptQuoting.Sh("ends with a high surrogate \ud83d"));
    }

    [Fact]
    public void A_connect_script_with_an_unrepresentable_parameter_is_refused_before_it_is_sent()
    {
        // A loop, not theory data: xunit would turn a lone surrogate into U+FFFD while serialising the case.
        foreach (var value in new[] { "a\0b", "lone \ud800 surrogate", "lone low \udc00 surrogate" })
        {
            ConnectScriptRefuses(value);
        }
    }

    private static void ConnectScriptRefuses(string value)
    {
        foreach (var platform in new[] { Platform.Linux, Platform.Windows })
        {
            var parameters = new ConnectParameters("i-0123456789abcdef0", value, "sub", "tenant", "eastus", "name", Guid.NewGuid(), "AzureCloud", Guid.NewGuid());
            var refused = Should.Throw<ArgumentException>(() => OnboardingScripts.Connect(platform, [parameters]));
            refused.Message.ShouldNotBeNullOrWhiteSpace();
        }
    }

    /// <summary>
    /// A connect script for a batch of two instances whose every parameter is the hostile value, run against a stub
    /// <c>azcmagent</c> that prints each argument it gets between markers; the environment picks the hostile instance.
    /// </summary>
    private (string Script, string[] Expected, Dictionary<string, string> Environment) ConnectScript(Platform platform, string value)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_folder.FullName, "bin"));
        var stub = Path.Combine(bin.FullName, "azcmagent");
        // The stub writes to a file, not stdout: PowerShell splits captured native output on line breaks.
        File.WriteAllText(stub, "#!/bin/sh\nfor a in \"$@\"; do printf '<<%s>>\\n' \"$a\" >> \"$ARGS_FILE\"; done\n");
        File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var vmId = Guid.NewGuid();
        var correlation = Guid.NewGuid();
        var target = new ConnectParameters(value, value, value, value, value, value, vmId, value, correlation);
        var other = new ConnectParameters("i-0other", "rg", "sub", "tenant", "eastus", "name", Guid.NewGuid(), "AzureCloud", Guid.NewGuid());
        var script = OnboardingScripts.Connect(platform, [other, target]);
        var expected = new[] { "connect", "existing", "--use-saved-key" }.Concat(target.Arguments).ToArray();
        var environment = new Dictionary<string, string>
        {
            ["AWS_SSM_INSTANCE_ID"] = value,
            ["PATH"] = bin.FullName + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["ARGS_FILE"] = ArgsFile,
        };
        return (script, expected, environment);
    }

    private static string[] ArgumentsFrom(string output)
    {
        // Each argument is printed as <<value>>; values may contain newlines, so split on the markers.
        var arguments = new List<string>();
        var position = 0;
        while ((position = output.IndexOf("<<", position, StringComparison.Ordinal)) >= 0)
        {
            var end = output.IndexOf(">>\n", position + 2, StringComparison.Ordinal);
            end.ShouldBeGreaterThan(-1, "an argument marker was not closed");
            arguments.Add(output[(position + 2)..end]);
            position = end + 3;
        }

        return arguments.ToArray();
    }

    private async Task<string> RunShAsync(string script, Dictionary<string, string> environment)
    {
        var path = Path.Combine(_folder.FullName, "script.sh");
        await File.WriteAllTextAsync(path, script);
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _folder.FullName };
        start.ArgumentList.Add(path);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        error.ShouldBeEmpty();
        return output;
    }

    private static readonly Lock PowerShellEnvironment = new();

    private List<string> RunPowerShell(string script, Dictionary<string, string> environment)
    {
        // Hosted PowerShell reads the process environment, which is shared: set and restore it under a lock.
        lock (PowerShellEnvironment)
        {
            var saved = environment.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
            var savedDirectory = Environment.CurrentDirectory;
            try
            {
                foreach (var (name, value) in environment)
                {
                    Environment.SetEnvironmentVariable(name, value);
                }

                Environment.CurrentDirectory = _folder.FullName;
                using var shell = PowerShell.Create();
                shell.AddScript(script);
                var results = shell.Invoke().Select(r => r?.ToString() ?? "").ToList();
                shell.HadErrors.ShouldBeFalse(string.Join("; ", shell.Streams.Error.Select(e => e.ToString())));
                return results;
            }
            finally
            {
                foreach (var (name, value) in saved)
                {
                    Environment.SetEnvironmentVariable(name, value);
                }

                Environment.CurrentDirectory = savedDirectory;
            }
        }
    }
}
