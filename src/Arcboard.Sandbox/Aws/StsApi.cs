using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Aws;

/// <summary>STS over the Query protocol: GetCallerIdentity and AssumeRole into the fleet's accounts.</summary>
public sealed partial class StsApi(SandboxFleet fleet, AwsCredentialStore credentials)
{
    public static readonly XNamespace Ns = "https://sts.amazonaws.com/doc/2011-06-15/";

    public XElement Handle(AwsCall call, IReadOnlyDictionary<string, string> form) => call.Operation switch
    {
        "GetCallerIdentity" => Wrap(call, new XElement(Ns + "Arn", call.Principal.Arn), new XElement(Ns + "UserId", call.Principal.UserId), new XElement(Ns + "Account", call.AccountId)),
        "AssumeRole" => AssumeRole(call, form),
        _ => throw new AwsServiceException("InvalidAction", $"Could not find operation {call.Operation} for version 2011-06-15"),
    };

    private XElement AssumeRole(AwsCall call, IReadOnlyDictionary<string, string> form)
    {
        var roleArn = form.GetValueOrDefault("RoleArn") ?? throw Validation("null", "roleArn", "Member must not be null");
        var sessionName = form.GetValueOrDefault("RoleSessionName") ?? throw Validation("null", "roleSessionName", "Member must not be null");
        if (!SessionNamePattern().IsMatch(sessionName))
        {
            throw Validation(sessionName, "roleSessionName", "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
        }

        var duration = 3600;
        if (form.TryGetValue("DurationSeconds", out var d) && (!int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out duration) || duration is < 900 or > 43200))
        {
            throw Validation(d, "durationSeconds", "Member must have value between 900 and 43200");
        }

        if (call.Principal.IsRoleSession && duration > 3600)
        {
            throw new AwsServiceException("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
        }

        var match = RoleArnPattern().Match(roleArn);
        if (!match.Success)
        {
            throw new AwsServiceException("ValidationError", $"{roleArn} is invalid");
        }

        var account = match.Groups["account"].Value;
        if (!fleet.HasAccount(account))
        {
            throw new AwsServiceException("AccessDenied", $"User: {call.Principal.Arn} is not authorized to perform: sts:AssumeRole on resource: {roleArn}", 403);
        }

        var roleName = match.Groups["name"].Value.Split('/')[^1];
        var session = credentials.IssueRoleSession(account, roleName, sessionName, TimeSpan.FromSeconds(duration));
        return Wrap(call,
            new XElement(Ns + "Credentials",
                new XElement(Ns + "AccessKeyId", session.AccessKeyId),
                new XElement(Ns + "SecretAccessKey", session.SecretAccessKey),
                new XElement(Ns + "SessionToken", session.SessionToken),
                new XElement(Ns + "Expiration", session.Expiration!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))),
            new XElement(Ns + "AssumedRoleUser",
                new XElement(Ns + "AssumedRoleId", session.UserId),
                new XElement(Ns + "Arn", session.Arn)));
    }

    private static XElement Wrap(AwsCall call, params object[] result) =>
        new(Ns + $"{call.Operation}Response",
            new XElement(Ns + $"{call.Operation}Result", result),
            new XElement(Ns + "ResponseMetadata", new XElement(Ns + "RequestId", call.RequestId)));

    private static AwsServiceException Validation(string value, string member, string constraint) =>
        new("ValidationError", $"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}");

    [GeneratedRegex(@"^arn:aws:iam::(?<account>[0-9]{12}):role/(?<name>[\w+=,.@/-]{1,512})$")]
    private static partial Regex RoleArnPattern();

    [GeneratedRegex(@"^[\w+=,.@-]{2,64}$")]
    private static partial Regex SessionNamePattern();
}
