using System.Text.Json;
using System.Text.RegularExpressions;
using Arcboard.Core.Cloud;

namespace Arcboard.Core.Scripts;

/// <summary>Reads the marker lines of <see cref="OnboardingScripts"/> out of untrusted command output.</summary>
public static partial class ScriptResults
{
    private const int MaxReasonLength = 300;

    public static ProbeResult ReadProbe(CommandInvocation invocation)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var lines = Lines(invocation.StandardOutput);

        if (lines.Any(l => l == OnboardingScripts.Markers.AgentAbsent))
        {
            return new ProbeResult.AgentAbsent();
        }

        var connected = lines.FirstOrDefault(l => l.StartsWith(OnboardingScripts.Markers.AlreadyConnected + " ", StringComparison.Ordinal));
        if (connected is not null)
        {
            return new ProbeResult.AlreadyConnected(ReadResourceId(connected[(OnboardingScripts.Markers.AlreadyConnected.Length + 1)..]));
        }

        var keyLine = lines.FirstOrDefault(l => l.StartsWith(OnboardingScripts.Markers.Key + " ", StringComparison.Ordinal));
        if (keyLine is not null && invocation.Status == CommandStatus.Success)
        {
            var check = PublicKeyValidator.Validate(keyLine[(OnboardingScripts.Markers.Key.Length + 1)..]);
            return check.IsValid
                ? new ProbeResult.Key(check.PublicKey!, check.Fingerprint!)
                : new ProbeResult.Failed($"genkey output rejected: {check.Problem}");
        }

        var genkeyFailed = lines.FirstOrDefault(l => l.StartsWith(OnboardingScripts.Markers.GenkeyFailed, StringComparison.Ordinal));
        if (genkeyFailed is not null)
        {
            return new ProbeResult.Failed($"azcmagent genkey failed{AgentError(invocation) ?? $" ({Clean(genkeyFailed)})"}");
        }

        return new ProbeResult.Failed(Unexpected("the probe-and-genkey script", invocation));
    }

    public static ConnectResult ReadConnect(CommandInvocation invocation)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var lines = Lines(invocation.StandardOutput);
        if (lines.Any(l => l == OnboardingScripts.Markers.UnknownInstance))
        {
            return new ConnectResult(ConnectVerdict.Failed, null, "the connect script had no parameters for this instance");
        }

        var exitLine = lines.FirstOrDefault(l => l.StartsWith(OnboardingScripts.Markers.ConnectExit + " ", StringComparison.Ordinal));
        if (exitLine is null || !int.TryParse(exitLine.AsSpan(OnboardingScripts.Markers.ConnectExit.Length + 1), out var exitCode))
        {
            return new ConnectResult(ConnectVerdict.Failed, null, Unexpected("the connect script", invocation));
        }

        return exitCode switch
        {
            0 => new ConnectResult(ConnectVerdict.Connected, 0, null),
            AgentExitCodes.AlreadyConnected => new ConnectResult(ConnectVerdict.AlreadyConnected, exitCode, "the agent says it is already connected"),
            _ => new ConnectResult(ConnectVerdict.Failed, exitCode, $"azcmagent connect failed{AgentError(invocation) ?? $" with exit code {exitCode} ({AgentExitCodes.Describe(exitCode)})"}"),
        };
    }

    private static string? AgentError(CommandInvocation invocation)
    {
        foreach (var line in Lines(invocation.StandardError).Concat(Lines(invocation.StandardOutput)))
        {
            var match = AgentErrorLine().Match(line);
            if (match.Success)
            {
                return $": {Clean(match.Value)}";
            }
        }

        return null;
    }

    private static string Unexpected(string what, CommandInvocation invocation)
    {
        var status = invocation.Status switch
        {
            CommandStatus.TimedOut => "timed out on the instance",
            CommandStatus.Cancelled or CommandStatus.Cancelling => "was cancelled",
            CommandStatus.Undeliverable => "could not be delivered to the instance",
            CommandStatus.Terminated => "was ended because the instance terminated",
            _ => $"ended with status {invocation.Status} and exit code {invocation.ResponseCode}",
        };
        var detail = AgentError(invocation) ?? FirstMeaningfulLine(invocation);
        return $"{what} {status} without a recognisable result{detail}";
    }

    private static string FirstMeaningfulLine(CommandInvocation invocation)
    {
        // SSM frames a plugin's stderr with banner lines such as "----------ERROR-------"; they say nothing about why.
        var line = Lines(invocation.StandardError).Concat(Lines(invocation.StandardOutput))
            .FirstOrDefault(l => l.Trim().Trim('-').Length > 0 && !IsSsmBanner(l));
        return line is null ? "" : $": {Clean(line)}";
    }

    private static bool IsSsmBanner(string line)
    {
        var word = line.Trim().Trim('-');
        return line.TrimStart().StartsWith("---", StringComparison.Ordinal)
            && word is "ERROR" or "OUTPUT" or "STDERR" or "STDOUT";
    }

    private static string? ReadResourceId(string showJson)
    {
        try
        {
            using var document = JsonDocument.Parse(showJson);
            return document.RootElement.TryGetProperty("resourceId", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<string> Lines(string? text) =>
        string.IsNullOrEmpty(text)
            ? []
            : text.Split('\n').Select(l => l.TrimEnd('\r').Trim()).ToList();

    /// <summary>Keeps a line of instance output fit for a report: printable, and short.</summary>
    internal static string Clean(string text)
    {
        var printable = new string(text.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return printable.Length <= MaxReasonLength ? printable : printable[..MaxReasonLength] + "...";
    }

    [GeneratedRegex(@"AZCM\d{4}:.*")]
    private static partial Regex AgentErrorLine();
}

public abstract record ProbeResult
{
    private ProbeResult()
    {
    }

    public sealed record AgentAbsent : ProbeResult;

    public sealed record AlreadyConnected(string? ResourceId) : ProbeResult;

    public sealed record Key(string PublicKey, string Fingerprint) : ProbeResult;

    public sealed record Failed(string Reason) : ProbeResult;
}

public enum ConnectVerdict
{
    Connected,
    AlreadyConnected,
    Failed,
}

public sealed record ConnectResult(ConnectVerdict Verdict, int? ExitCode, string? Reason)
{
    /// <summary>The agent could not use the saved key: a new key must be made before trying again.</summary>
    public bool NeedsNewKey => ExitCode is AgentExitCodes.InvalidCredentials or AgentExitCodes.PrivateKeyNotFound or AgentExitCodes.SignedMessageFailed or AgentExitCodes.RsaKeyError;
}

/// <summary>The <c>AZCMnnnn</c> exit codes of azcmagent that the connector reacts to (REFERENCE.md section 3).</summary>
public static class AgentExitCodes
{
    public const int MissingParameter = 16;
    public const int NotElevated = 18;
    public const int InvalidArgument = 23;
    public const int NetworkError = 26;
    public const int InvalidCredentials = 41;
    public const int ResourceCreationFailed = 42;
    public const int NameAlreadyExists = 44;
    public const int AlreadyConnected = 67;
    public const int CertificateDownloadFailed = 81;
    public const int RsaKeyError = 103;
    public const int PrivateKeyNotFound = 104;
    public const int SignedMessageFailed = 105;

    public static string Describe(int exitCode) => exitCode switch
    {
        1 => "unknown error",
        MissingParameter => "a mandatory parameter is missing",
        NotElevated => "not run as root/Administrator",
        InvalidArgument => "an argument is invalid",
        NetworkError => "network error reaching Azure",
        InvalidCredentials => "Azure refused the proof of key possession",
        ResourceCreationFailed => "the Azure resource could not be found or created",
        NameAlreadyExists => "the resource name already exists",
        AlreadyConnected => "already connected",
        CertificateDownloadFailed => "identity certificate download failed",
        RsaKeyError => "RSA key error",
        PrivateKeyNotFound => "the saved private key was not found",
        SignedMessageFailed => "could not get a signed message",
        127 => "azcmagent was not found on the instance",
        _ => "see the agent log on the instance",
    };
}
