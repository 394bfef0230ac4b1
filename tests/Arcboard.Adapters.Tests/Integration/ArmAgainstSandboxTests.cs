using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using System.Security.Cryptography;

namespace Arcboard.Adapters.Tests.Integration;

[Collection(SandboxCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ArmAgainstSandboxTests(SandboxFixture sandbox)
{
    [Fact]
    public async Task Put_get_list_and_delete_round_trip_with_a_client_secret_and_the_pinned_certificate()
    {
        var arm = sandbox.ArmClient();
        var subscription = sandbox.Endpoints.SubscriptionId;
        var group = "aws_" + Guid.NewGuid().ToString("N")[..8];
        using var rsa = RSA.Create(2048);
        var publicKey = Convert.ToBase64String(rsa.ExportRSAPublicKey());
        var vmId = Guid.NewGuid();
        var machine = new MachineRef(subscription, group, "i-0123456789abcdef0");

        (await arm.ListAsync(subscription, group, CancellationToken.None)).ShouldBeEmpty();
        await arm.EnsureResourceGroupAsync(subscription, group, "eastus", CancellationToken.None);
        await arm.EnsureResourceGroupAsync(subscription, group, "eastus", CancellationToken.None);
        (await arm.GetAsync(machine, CancellationToken.None)).ShouldBeNull();

        var created = await arm.PutAsync(machine, new MachineSpec("eastus", publicKey, vmId, Platform.Linux, new Dictionary<string, string> { ["arcboard"] = "true" }), CancellationToken.None);
        created.Name.ShouldBe(machine.Name);
        created.Id.ShouldBe(machine.ResourceId, StringCompareShould.IgnoreCase);
        created.VmId.ShouldBe(vmId);
        created.IsConnected.ShouldBeFalse();

        var read = (await arm.GetAsync(machine, CancellationToken.None)).ShouldNotBeNull();
        read.ClientPublicKey.ShouldBe(publicKey);
        read.Location.ShouldBe("eastus");
        read.Tags["arcboard"].ShouldBe("true");

        var second = machine with { Name = "i-0123456789abcdef1" };
        await arm.PutAsync(second, new MachineSpec("eastus", publicKey, Guid.NewGuid(), Platform.Windows, new Dictionary<string, string>()), CancellationToken.None);
        (await arm.ListAsync(subscription, group, CancellationToken.None)).Select(m => m.Name).Order().ShouldBe([machine.Name, second.Name]);

        await arm.DeleteAsync(machine, CancellationToken.None);
        (await arm.GetAsync(machine, CancellationToken.None)).ShouldBeNull();
        await arm.DeleteAsync(machine, CancellationToken.None);
        (await arm.ListAsync(subscription, group, CancellationToken.None)).Select(m => m.Name).ShouldBe([second.Name]);
    }

    [Fact]
    public async Task A_wrong_client_secret_is_a_permanent_authentication_failure()
    {
        var options = sandbox.AzureOptions();
        options = options with { Credential = options.Credential with { ClientSecret = "wrong-secret-value" } };
        var arm = new Arcboard.Azure.ArmMachinesClient(options, Arcboard.Azure.AzureCredentialFactory.Create(options));

        var ex = await Should.ThrowAsync<CloudException>(() => arm.GetAsync(new MachineRef(options.SubscriptionId, "rg", "m"), CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Code.ShouldBe("AuthenticationFailed");
        ex.Message.ShouldNotContain("wrong-secret-value");
    }
}
