using System.Security.Cryptography;
using Arcboard.Sandbox.Azure;

namespace Arcboard.Agent.Tests;

/// <summary>The seams a host uses to run the agent in-process for many machines: the key source and a shared transport.</summary>
public sealed class AgentServicesTests
{
    [Fact]
    public async Task Genkey_uses_the_supplied_key_source_and_saves_that_key()
    {
        using var machine = new AgentHarness();
        using var supplied = RSA.Create(2048);
        var calls = 0;
        var services = new AgentServices
        {
            CreateKey = () =>
            {
                calls++;
                var copy = RSA.Create();
                copy.ImportParameters(supplied.ExportParameters(includePrivateParameters: true));
                return copy;
            },
        };

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await AgentCli.RunAsync(["genkey"], stdout, stderr, machine.Environment, null, services);

        exit.ShouldBe(0, stderr.ToString());
        calls.ShouldBe(1);
        stdout.ToString().Trim().ShouldBe(Convert.ToBase64String(supplied.ExportRSAPublicKey()));
        using var saved = RSA.Create();
        saved.ImportFromPem(await File.ReadAllTextAsync(machine.KeyPath));
        saved.ExportRSAPublicKey().ShouldBe(supplied.ExportRSAPublicKey());
    }

    [Fact]
    public async Task Connects_of_many_machines_go_through_one_shared_transport_that_the_agent_leaves_open()
    {
        await using var server = await AzureSandboxServer.StartAsync();
        var counter = new CountingHandler(AzureSandboxServer.CreatePinnedHandler(server.Certificate));
        using var transport = new HttpMessageInvoker(counter, disposeHandler: true);
        var services = new AgentServices { IdentityTransport = transport };

        foreach (var name in new[] { "i-0123456789abcdef1", "i-0123456789abcdef2" })
        {
            using var machine = new AgentHarness();
            machine.Environment["AZCMAGENT_IDENTITY_ENDPOINT"] = server.BaseAddress.ToString();
            // No CA file: the shared transport decides what to trust, so the agent must not try to read one.
            machine.Environment["AZCMAGENT_CA_CERT"] = Path.Combine(machine.Root, "absent.pem");
            var genkey = new StringWriter();
            (await AgentCli.RunAsync(["genkey"], genkey, TextWriter.Null, machine.Environment, null, services)).ShouldBe(0);
            var vmId = Guid.NewGuid();
            await Arm.PreCreateAsync(server, name, vmId, genkey.ToString().Trim());

            var stderr = new StringWriter();
            var exit = await AgentCli.RunAsync(Arm.ConnectArgs(server, name, vmId), TextWriter.Null, stderr, machine.Environment, null, services);
            exit.ShouldBe(0, stderr.ToString());
        }

        counter.Requests.ShouldBe(4, "a challenge and a proof per machine, all through the shared transport");
        server.Cloud.ListMachines().ShouldAllBe(m => m.Status == "Connected");
    }

    private sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public int Requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
