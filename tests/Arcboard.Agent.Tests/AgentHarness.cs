using System.Collections;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Azure;

namespace Arcboard.Agent.Tests;

internal sealed record AgentResult(int ExitCode, string Stdout, string Stderr);

/// <summary>One simulated machine: its own root folder and environment, and a way to run azcmagent on it.</summary>
internal sealed class AgentHarness : IDisposable
{
    public AgentHarness(string os = "linux")
    {
        Root = Path.Combine(Path.GetTempPath(), "arcboard-agent-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Environment = new Hashtable { ["AZCMAGENT_ROOT"] = Root, ["AZCMAGENT_OS"] = os, ["HOSTNAME"] = "ip-10-0-0-7" };
    }

    public string Root { get; }

    public Hashtable Environment { get; }

    public string KeyPath => Environment["AZCMAGENT_OS"] as string == "windows"
        ? Path.Combine(Root, "ProgramData", "AzureConnectedMachineAgent", "Certs", "genPrivateKey.pem")
        : Path.Combine(Root, "var", "opt", "azcmagent", "certs", "genPrivateKey.pem");

    public string LogPath => Path.Combine(Root, "var", "opt", "azcmagent", "log", "azcmagent.log");

    public async Task<AgentResult> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AgentCli.RunAsync(args, stdout, stderr, Environment);
        return new AgentResult(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the built azcmagent executable as its own process, as a Run Command script would.</summary>
    public async Task<AgentResult> RunProcessAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "azcmagent.dll");
        File.Exists(dll).ShouldBeTrue();
        var start = new ProcessStartInfo(System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (DictionaryEntry entry in Environment)
        {
            start.Environment[(string)entry.Key] = (string?)entry.Value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new AgentResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Points the agent at a sandbox, trusting exactly its certificate.</summary>
    public void UseSandbox(AzureSandboxServer server)
    {
        var pem = Path.Combine(Root, "sandbox-ca.pem");
        server.Certificate.WritePem(pem);
        Environment["AZCMAGENT_IDENTITY_ENDPOINT"] = server.BaseAddress.ToString();
        Environment["AZCMAGENT_CA_CERT"] = pem;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>What the connector does in ARM before it asks the agent to connect.</summary>
internal static class Arm
{
    public const string ResourceGroup = "aws_111111111111";

    public static async Task PreCreateAsync(AzureSandboxServer server, string name, Guid vmId, string publicKey)
    {
        using var http = server.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Cloud.IssueToken(TimeSpan.FromMinutes(5)));
        var sub = server.Cloud.Options.SubscriptionId;
        using var rg = await http.PutAsync($"subscriptions/{sub}/resourcegroups/{ResourceGroup}?api-version=2021-04-01", Json(new JsonObject { ["location"] = "eastus" }));
        rg.IsSuccessStatusCode.ShouldBeTrue();
        using var machine = await http.PutAsync(
            $"subscriptions/{sub}/resourceGroups/{ResourceGroup}/providers/Microsoft.HybridCompute/machines/{name}?api-version=2025-01-13",
            Json(new JsonObject
            {
                ["location"] = "eastus",
                ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
                ["kind"] = "AWS",
                ["properties"] = new JsonObject { ["clientPublicKey"] = publicKey, ["vmId"] = vmId.ToString(), ["osType"] = "linux" },
            }));
        machine.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    public static string[] ConnectArgs(AzureSandboxServer server, string name, Guid vmId, params string[] extra) =>
    [
        "connect", "existing", "--use-saved-key",
        "--resource-group", ResourceGroup,
        "-s", server.Cloud.Options.SubscriptionId,
        "--tenant-id=" + server.Cloud.Options.TenantId,
        "-l", "eastus",
        "-n", name,
        "--vmid", vmId.ToString(),
        .. extra,
    ];

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    public static string NewPublicKey() => Convert.ToBase64String(RSA.Create(2048).ExportRSAPublicKey());
}
