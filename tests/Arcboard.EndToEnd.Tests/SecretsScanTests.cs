using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Azure;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.EndToEnd.Tests;

/// <summary>
/// A whole <c>arcboard sync</c> at its most verbose, then a search of everything it and the agents wrote (stdout,
/// stderr, the JSON report, the SQLite store and its journal files, the agents' logs and state) for every secret in
/// play: the Azure client secret, the AWS secret key, each bearer token issued, each proof signature received, and
/// each private key the agents generated.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class SecretsScanTests : IAsyncLifetime
{
    private const int Linux = 3;
    private const int Windows = 3;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("arcboard-secrets-");
    private SandboxHost _sandbox = null!;
    private string _config = null!;
    private string _state = null!;

    public async Task InitializeAsync()
    {
        (_sandbox, _config) = await FleetFiles.StartMixedSandboxAsync(_folder.FullName, Linux, Windows);
        _state = Path.Combine(_folder.FullName, "state");
    }

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    [Fact]
    public async Task A_trace_level_sync_writes_no_secret_anywhere()
    {
        var recorder = _sandbox.Azure.RecordSecrets();
        var keys = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        CliResult run;
        using (var watch = new CancellationTokenSource())
        {
            var capture = CapturePrivateKeysAsync(keys, watch.Token);
            run = await CliRun.InProcessAsync("sync", "--config", _config, "--output", "json", "--log-level", "Trace");
            await watch.CancelAsync();
            await capture;
        }

        run.ExitCode.ShouldBe(0, run.Error);
        using (var report = JsonDocument.Parse(run.Out))
        {
            report.RootElement.GetProperty("summary").GetProperty("onboarded").GetInt32().ShouldBe(Linux + Windows);
        }

        run.Error.Length.ShouldBeGreaterThan(1000, "trace logging should have written plenty to scan");

        // The material is real and complete: the key of every machine this run connected was captured. (An agent that
        // ran genkey more than once, as on a retry, leaves more keys than machines; those are searched for too.)
        var registered = _sandbox.Azure.ListMachines().Where(m => m.Tags.ContainsKey("arcboard-managed-by")).Select(m => m.ClientPublicKey!).ToList();
        registered.Count.ShouldBe(Linux + Windows);
        registered.ShouldAllBe(publicKey => keys.ContainsKey(publicKey));
        var seen = recorder.Seen;
        seen.Count.ShouldBeGreaterThanOrEqualTo(1 + Linux + Windows, "at least one token and one signature per machine");

        var secrets = Secrets(seen, keys.Values);
        var written = WrittenArtifacts(run);
        written.Keys.ShouldContain(k => k.EndsWith("arcboard.db", StringComparison.Ordinal));
        written.Keys.ShouldContain(k => k.EndsWith("azcmagent.log", StringComparison.Ordinal));

        Leaks(written, secrets).ShouldBeEmpty();
    }

    [Fact]
    public void The_scan_finds_a_planted_secret_however_it_is_written()
    {
        using var rsa = RSA.Create(2048);
        var pem = PemEncoding.WriteString("RSA PRIVATE KEY", rsa.ExportRSAPrivateKey());
        var signature = Convert.ToBase64String(rsa.SignData("x"u8.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        var secrets = Secrets([signature, "token-abc_DEF-123456"], [pem]);
        var oneLineKey = Convert.ToBase64String(rsa.ExportRSAPrivateKey());

        Leaks(new Dictionary<string, string> { ["clean"] = $"public keys are fine: {Convert.ToBase64String(rsa.ExportRSAPublicKey())}" }, secrets).ShouldBeEmpty();
        Leaks(new Dictionary<string, string> { ["raw"] = $"proof {signature} sent" }, secrets).ShouldContain(l => l.StartsWith("raw: ", StringComparison.Ordinal));
        Leaks(new Dictionary<string, string> { ["json"] = JsonSerializer.Serialize(new { s = signature }) }, secrets).ShouldNotBeEmpty();
        Leaks(new Dictionary<string, string> { ["token"] = "Authorization: Bearer token-abc_DEF-123456" }, secrets).ShouldNotBeEmpty();
        Leaks(new Dictionary<string, string> { ["inline"] = $"--private-key {oneLineKey}" }, secrets).ShouldNotBeEmpty();
        // A key of another format than the planted one: only its PEM marker can give it away.
        using var other = RSA.Create(2048);
        Leaks(new Dictionary<string, string> { ["marker"] = other.ExportPkcs8PrivateKeyPem() }, secrets).ShouldNotBeEmpty();
    }

    /// <summary>Copies each genPrivateKey.pem while it exists: connect deletes it once it has served.</summary>
    private async Task CapturePrivateKeysAsync(ConcurrentDictionary<string, string> keys, CancellationToken cancellationToken)
    {
        var roots = _sandbox.Fleet.Instances.Select(i => i.RootDirectory).ToList();
        while (true)
        {
            foreach (var root in roots)
            {
                foreach (var name in new[] { "var/opt/azcmagent/certs/genPrivateKey.pem", "ProgramData/AzureConnectedMachineAgent/Certs/genPrivateKey.pem" })
                {
                    var path = Path.Combine(root, name);
                    try
                    {
                        var pem = await File.ReadAllTextAsync(path, CancellationToken.None);
                        using var rsa = RSA.Create();
                        rsa.ImportFromPem(pem);
                        keys[Convert.ToBase64String(rsa.ExportRSAPublicKey())] = pem;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
                    {
                        // Not there (yet, or any more), or caught mid-write: the next round looks again.
                    }
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            await Task.Delay(5, CancellationToken.None);
        }
    }

    private Dictionary<string, string> Secrets(IReadOnlyList<string> seenBySandbox, IEnumerable<string> privateKeys)
    {
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        var config = JsonNode.Parse(File.Exists(_config) ? File.ReadAllText(_config) : "{}")!;
        if (config["azure"]?["credential"]?["clientSecret"]?.GetValue<string>() is { } clientSecret)
        {
            secrets[clientSecret] = "the Azure client secret";
        }

        if (config["aws"]?["credentials"]?["secretAccessKey"]?.GetValue<string>() is { } awsSecret)
        {
            secrets[awsSecret] = "the AWS secret access key";
        }

        foreach (var secret in seenBySandbox)
        {
            secrets[secret] = "a bearer token or proof signature";
        }

        foreach (var pem in privateKeys)
        {
            // Each 64-character line of the PEM body: found whether the key leaks as PEM or as one base64 line. Lines
            // that only hold the modulus also appear in the public key, which is meant to be stored: they prove nothing.
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            var publicKey = Convert.ToBase64String(rsa.ExportRSAPublicKey());
            foreach (var line in pem.Split('\n').Where(l => l.Length == 64 && !l.StartsWith("-----", StringComparison.Ordinal) && !publicKey.Contains(l, StringComparison.Ordinal)))
            {
                secrets[line] = "part of an agent's private key";
            }
        }

        secrets["PRIVATE KEY-----"] = "a PEM private key marker";
        return secrets;
    }

    /// <summary>Every text the run produced: its output streams and every file it or the agents wrote.</summary>
    private Dictionary<string, string> WrittenArtifacts(CliResult run)
    {
        var written = new Dictionary<string, string>(StringComparer.Ordinal) { ["stdout"] = run.Out, ["stderr"] = run.Error };
        var agentBinaries = Path.Combine(_sandbox.DataDirectory, "bin");
        foreach (var file in Directory.EnumerateFiles(_folder.FullName, "*", SearchOption.AllDirectories))
        {
            // The configuration holds the secrets on purpose (written 0600 by the operator's tooling); the agent
            // binaries are not output; a saved key file is where a key belongs (a machine connected before the run
            // keeps its own).
            if (file == _config || file.StartsWith(agentBinaries, StringComparison.Ordinal) || Path.GetFileName(file) == "genPrivateKey.pem")
            {
                continue;
            }

            // Latin-1 keeps every byte as one char, so ASCII secrets are found in binary files such as the store.
            written[Path.GetRelativePath(_folder.FullName, file)] = Encoding.Latin1.GetString(File.ReadAllBytes(file));
        }

        return written;
    }

    private static List<string> Leaks(IReadOnlyDictionary<string, string> written, IReadOnlyDictionary<string, string> secrets)
    {
        var leaks = new List<string>();
        foreach (var (where, raw) in written)
        {
            // JSON writers may escape '+' and '/'; undo that so an escaped secret is still found.
            var text = raw.Replace("\\u002B", "+", StringComparison.OrdinalIgnoreCase).Replace("\\/", "/", StringComparison.Ordinal);
            foreach (var (secret, what) in secrets)
            {
                if (text.Contains(secret, StringComparison.Ordinal))
                {
                    // Name the secret by kind only: a failing test must not print it either.
                    leaks.Add($"{where}: {what}");
                }
            }
        }

        return leaks;
    }
}
