using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Arcboard.Agent.Tests;

public sealed class GenKeyTests
{
    [Fact]
    public async Task Genkey_prints_a_PKCS1_public_key_and_saves_the_private_key_owner_only()
    {
        using var machine = new AgentHarness();

        var result = await machine.RunAsync("genkey");

        result.ExitCode.ShouldBe(0, result.Stderr);
        var line = result.Stdout.TrimEnd('\n', '\r');
        line.ShouldNotContain("\n");
        line.ShouldStartWith("MIIBCgKCAQEA");
        var der = Convert.FromBase64String(line);
        der.Length.ShouldBe(270);
        using var rsa = RSA.Create();
        rsa.ImportRSAPublicKey(der, out _);
        rsa.ExportParameters(false).Exponent.ShouldBe(new byte[] { 1, 0, 1 });

        var pem = await File.ReadAllTextAsync(machine.KeyPath);
        pem.ShouldStartWith($"-----BEGIN {KeyStore.PemLabel}-----");
        File.GetUnixFileMode(machine.KeyPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var saved = RSA.Create();
        saved.ImportFromPem(pem);
        saved.ExportRSAPublicKey().ShouldBe(der);
        (await File.ReadAllTextAsync(machine.LogPath)).ShouldNotContain(KeyStore.PemLabel);
    }

    [Fact]
    public async Task Openssl_reads_the_printed_key_as_an_RSAPublicKey()
    {
        using var machine = new AgentHarness();
        var result = await machine.RunAsync("genkey");
        var derPath = Path.Combine(machine.Root, "public.der");
        await File.WriteAllBytesAsync(derPath, Convert.FromBase64String(result.Stdout.Trim()));

        var start = new ProcessStartInfo("/usr/bin/openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "rsa", "-RSAPublicKey_in", "-inform", "DER", "-in", derPath, "-noout", "-text" })
        {
            start.ArgumentList.Add(arg);
        }

        using var openssl = Process.Start(start)!;
        var output = await openssl.StandardOutput.ReadToEndAsync();
        var error = await openssl.StandardError.ReadToEndAsync();
        await openssl.WaitForExitAsync();

        openssl.ExitCode.ShouldBe(0, error);
        output.ShouldContain("Public-Key: (2048 bit)");
        output.ShouldContain("Exponent: 65537");
    }

    [Fact]
    public async Task Genkey_json_prints_one_object_and_a_second_genkey_replaces_the_key()
    {
        using var machine = new AgentHarness();
        var first = await machine.RunAsync("genkey");

        var second = await machine.RunAsync("genkey", "--json");

        second.ExitCode.ShouldBe(0);
        var publicKey = JsonNode.Parse(second.Stdout)!["publicKey"]!.GetValue<string>();
        publicKey.ShouldStartWith("MIIBCgKCAQEA");
        publicKey.ShouldNotBe(first.Stdout.Trim());
        using var saved = RSA.Create();
        saved.ImportFromPem(await File.ReadAllTextAsync(machine.KeyPath));
        Convert.ToBase64String(saved.ExportRSAPublicKey()).ShouldBe(publicKey);
        File.GetUnixFileMode(machine.KeyPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.GetFiles(Path.GetDirectoryName(machine.KeyPath)!).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task The_windows_layout_keeps_the_key_under_ProgramData()
    {
        using var machine = new AgentHarness(os: "windows");

        var result = await machine.RunAsync("genkey");

        result.ExitCode.ShouldBe(0);
        File.Exists(Path.Combine(machine.Root, "ProgramData", "AzureConnectedMachineAgent", "Certs", "genPrivateKey.pem")).ShouldBeTrue();
        Directory.Exists(Path.Combine(machine.Root, "var")).ShouldBeFalse();
    }

    [Fact]
    public async Task Genkey_that_cannot_write_its_key_exits_103()
    {
        using var machine = new AgentHarness();
        // A file where the certs folder should be makes the save fail.
        Directory.CreateDirectory(Path.Combine(machine.Root, "var", "opt", "azcmagent"));
        await File.WriteAllTextAsync(Path.Combine(machine.Root, "var", "opt", "azcmagent", "certs"), "not a folder");

        var result = await machine.RunAsync("genkey");

        result.ExitCode.ShouldBe(103);
        result.Stderr.ShouldStartWith("AZCM0103: ");
        result.Stdout.ShouldBeEmpty();
    }
}
