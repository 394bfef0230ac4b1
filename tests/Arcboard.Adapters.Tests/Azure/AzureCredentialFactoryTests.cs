using System.Diagnostics.Tracing;
using System.Net;
using Arcboard.Azure;
using Arcboard.Core.Configuration;
using Azure.Core;
using Azure.Core.Diagnostics;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace Arcboard.Adapters.Tests.Azure;

public sealed class AzureCredentialFactoryTests
{
    private static AzureOptions Options(AzureCredentialOptions credential) => AzureTestSupport.Options with { Credential = credential };

    [Fact]
    public async Task Client_secret_posts_client_credentials_to_the_authority_host_with_the_secret_from_the_environment()
    {
        var token = new FakeArm
        {
            Respond = _ => FakeArm.Json("""{"token_type":"Bearer","expires_in":3600,"access_token":"issued-token"}"""),
        };
        var options = Options(new AzureCredentialOptions { Type = "clientSecret", ClientId = "app-id", ClientSecretEnv = "ARC_SECRET", AuthorityHost = "https://login.test" });

        var credential = AzureCredentialFactory.Create(options, name => name == "ARC_SECRET" ? "s3cret" : null, new HttpClientTransport(new HttpClient(token, false)));
        var result = await credential.GetTokenAsync(new TokenRequestContext(["https://arm.test/.default"]), CancellationToken.None);

        credential.ShouldBeOfType<ClientSecretCredential>();
        result.Token.ShouldBe("issued-token");
        // Instance discovery is off: the only call is the token request itself.
        var call = token.Calls.ShouldHaveSingleItem();
        call.Uri.ToString().ShouldBe($"https://login.test/{options.TenantId}/oauth2/v2.0/token");
        var form = System.Web.HttpUtility.ParseQueryString(call.Body);
        form["grant_type"].ShouldBe("client_credentials");
        form["client_id"].ShouldBe("app-id");
        form["client_secret"].ShouldBe("s3cret");
        form["scope"].ShouldBe("https://arm.test/.default");
    }

    [Fact]
    public void A_missing_secret_variable_is_named()
    {
        var options = Options(new AzureCredentialOptions { Type = "clientSecret", ClientId = "app-id", ClientSecretEnv = "ARC_SECRET" });

        Should.Throw<InvalidOperationException>(() => AzureCredentialFactory.Create(options, _ => null)).Message.ShouldContain("ARC_SECRET");
    }

    [Fact]
    public void An_unknown_type_lists_the_known_ones()
    {
        Should.Throw<InvalidOperationException>(() => AzureCredentialFactory.Create(Options(new AzureCredentialOptions { Type = "certificate" })))
            .Message.ShouldContain("clientSecret");
    }

    [Fact]
    public void Default_is_the_default_azure_credential()
    {
        AzureCredentialFactory.Create(Options(new AzureCredentialOptions())).ShouldBeOfType<DefaultAzureCredential>();
    }

    [Fact]
    public async Task Pipeline_logs_redact_the_authorization_header()
    {
        var messages = new List<string>();
        using (new AzureEventSourceListener((_, message) => { lock (messages) { messages.Add(message); } }, EventLevel.Verbose))
        {
            var fake = new FakeArm { Respond = _ => FakeArm.Json(AzureTestSupport.MachineJson("i-log")) };
            await fake.Client().GetAsync(new Arcboard.Core.Cloud.MachineRef(AzureTestSupport.Subscription, "rg", "i-log"), CancellationToken.None);
        }

        lock (messages)
        {
            messages.ShouldContain(m => m.Contains("Authorization", StringComparison.OrdinalIgnoreCase) && m.Contains("REDACTED", StringComparison.Ordinal));
            messages.ShouldNotContain(m => m.Contains("test-token", StringComparison.Ordinal));
        }
    }
}
