using System.Diagnostics;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Tests.Hosting;

namespace Arcboard.Sandbox.Tests.Aws;

/// <summary>
/// boto3 against the sandbox: a second, independent client stack, and botocore's service models as the judge of
/// every field the sandbox returns (boto3_check.py walks each response against the operation's output shape).
/// </summary>
public sealed class Boto3Tests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Boto3_works_and_every_field_returned_is_in_botocores_models()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Aws", "boto3_check.py");
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        var e = sandbox.Endpoints;
        start.Environment["SANDBOX_AWS_ENDPOINT"] = e.AwsEndpoint;
        start.Environment["SANDBOX_AWS_REGION"] = e.Region;
        start.Environment["SANDBOX_AWS_ACCESS_KEY_ID"] = e.AccessKeyId;
        start.Environment["SANDBOX_AWS_SECRET_ACCESS_KEY"] = e.SecretAccessKey;
        start.Environment["ACCOUNT2"] = SandboxFixture.Account2;
        start.Environment["LINUX"] = SandboxFixture.Linux;
        start.Environment["STOPPED"] = SandboxFixture.Stopped;
        foreach (var name in new[] { "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL" })
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        process.ExitCode.ShouldBe(0, await stderr);

        var result = JsonNode.Parse(await stdout)!.AsObject();
        result["problems"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBeEmpty();
        result["account"]!.GetValue<string>().ShouldBe(SandboxFixture.Account1);
        result["assumedAccount"]!.GetValue<string>().ShouldBe(SandboxFixture.Account2);
        result["assumeUnknown"]!.GetValue<string>().ShouldBe("AccessDenied");
        result["ec2Ids"]!.AsArray().Count.ShouldBe(sandbox.Account1UsEast1Count);
        result["ec2Pages"]!.GetValue<int>().ShouldBe((sandbox.Account1UsEast1Count + 4) / 5);
        result["ec2Platforms"]![SandboxFixture.Windows]!.GetValue<string>().ShouldBe("windows");
        result["ec2Platforms"]![SandboxFixture.Linux].ShouldBeNull();
        result["ec2States"]![SandboxFixture.Stopped]!.GetValue<string>().ShouldBe("stopped");
        result["windowsOnWire"]!.GetValue<bool>().ShouldBeTrue();
        result["regions"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["us-east-1", "eu-west-1"]);
        result["ec2BadFilter"]!.GetValue<string>().ShouldBe("InvalidParameterValue");
        result["ssmNodes"]![SandboxFixture.Offline]!.GetValue<string>().ShouldBe("ConnectionLost");
        result["ssmNodes"]!.AsObject().ContainsKey(SandboxFixture.Stopped).ShouldBeFalse();
        result["diiTooSmall"]!.GetValue<string>().ShouldBe("ValidationException");
        result["wrongSecret"]!.GetValue<string>().ShouldBe("InvalidSignatureException");
        result["ec2WrongSecret"]!.GetValue<string>().ShouldBe("SignatureDoesNotMatch");
        result["immediate"]!.GetValue<string>().ShouldBe("InvocationDoesNotExist");
        result["invocation"]!["Status"]!.GetValue<string>().ShouldBe("Failed");
        result["invocation"]!["ResponseCode"]!.GetValue<int>().ShouldBe(3);
        result["invocation"]!["Stdout"]!.GetValue<string>().ShouldBe($"{SandboxFixture.Linux} us-east-1\n");
        result["listedPluginCode"]!.GetValue<int>().ShouldBe(3);
        result["invalidInstance"]!.GetValue<string>().ShouldBe("InvalidInstanceId");
        result["cancel"]!.GetValue<int>().ShouldBe(200);
    }
}
