using Arcboard.Core.Cloud;
using Arcboard.Core.Scripts;
using Shouldly;
using Xunit;

namespace Arcboard.Core.Tests.Scripts;

public sealed class ScriptResultsTests
{
    [Fact]
    public void A_failure_without_markers_names_the_first_line_that_says_why_not_the_ssm_banner()
    {
        var invocation = new CommandInvocation(
            "i-0123456789abcdef0",
            CommandStatus.Failed,
            1,
            "",
            "----------ERROR-------\n/var/lib/amazon/ssm/_script.sh: 3: azcmagent: Permission denied\nfailed to run commands: exit status 1\n");

        var result = ScriptResults.ReadConnect(invocation);

        result.Verdict.ShouldBe(ConnectVerdict.Failed);
        result.Reason.ShouldNotBeNull();
        result.Reason.ShouldContain("azcmagent: Permission denied");
        result.Reason.ShouldNotContain("----------ERROR");
    }
}
