using System.Collections;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Arcboard.Agent;

/// <summary>
/// The <c>azcmagent</c> command line over an I/O seam (args, two writers, an environment), so tests run it
/// in-process exactly as the executable does.
/// </summary>
public static partial class AgentCli
{
    public const string Version = "1.50.0-arcboard";

    /// <summary>After this long without a heartbeat the real service shows the machine as Expired.</summary>
    private static readonly TimeSpan ExpiredAfter = TimeSpan.FromDays(45);

    private static readonly string[] Clouds = ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"];

    private const string Usage = """
        Usage: azcmagent <command> [flags]

        Commands:
          genkey [--json]                       create a key pair; print the public key, keep the private key
          connect existing --use-saved-key|--private-key B64
                  -g RG -s SUBSCRIPTION -t TENANT -l LOCATION -n NAME --vmid GUID
                  [--cloud C] [--correlation-id ID] [--tags K=V,...] [--private-link-scope ID]
                  [--gateway-id ID] [--ignore-network-check]
          show [-j|--json]                      show the agent's status
          disconnect --force-local-only         forget the connection locally
          version                               print the agent version
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IDictionary environment, TimeProvider? time = null) =>
        RunAsync(args, stdout, stderr, environment, time).GetAwaiter().GetResult();

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, IDictionary environment, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        RunAsync(args, stdout, stderr, environment, time, null, cancellationToken);

    /// <summary>Runs one command with <paramref name="services"/> in place of the agent's own key source and transport.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, IDictionary environment, TimeProvider? time, AgentServices? services, CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        services ??= AgentServices.Default;
        AgentLog? log = null;
        try
        {
            var paths = AgentPaths.Resolve(environment);
            log = new AgentLog(paths.Log, time);
            var rest = args.Skip(1).ToArray();
            switch (args.FirstOrDefault())
            {
                case "genkey":
                    GenKey(rest, paths, stdout, log, services);
                    break;
                case "connect":
                    await ConnectAsync(rest, paths, environment, stdout, log, time, services, cancellationToken);
                    break;
                case "show":
                    Show(rest, paths, stdout, time);
                    break;
                case "disconnect":
                    Disconnect(rest, paths, stdout, log);
                    break;
                case "version":
                    ParsedArguments.Parse(rest, []);
                    stdout.WriteLine($"azcmagent version {Version}");
                    break;
                case null or "help" or "--help" or "-h":
                    stdout.WriteLine(Usage);
                    return args.Length == 0 ? ExitCodes.InvalidArgument : ExitCodes.Success;
                default:
                    throw new AgentException(ExitCodes.InvalidArgument, $"Unknown command '{args[0]}'. Run 'azcmagent help' for the list of commands.");
            }

            return ExitCodes.Success;
        }
        catch (AgentException e)
        {
            log?.Error($"AZCM{e.ExitCode:D4} {e.Message}");
            stderr.WriteLine($"AZCM{e.ExitCode:D4}: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or CryptographicException)
        {
            // Still one AZCM line and a meaningful exit code, never a stack trace in the Run Command output.
            var message = $"Unexpected error: {e.GetType().Name}: {e.Message}";
            log?.Error($"AZCM0001 {message}");
            stderr.WriteLine($"AZCM0001: {message}");
            return ExitCodes.Unknown;
        }
    }

    private static void GenKey(string[] args, AgentPaths paths, TextWriter stdout, AgentLog log, AgentServices services)
    {
        var parsed = ParsedArguments.Parse(args, [new OptionSpec("json", false, "-j")]);
        RejectPositionals(parsed);
        string publicKey;
        try
        {
            using var rsa = services.CreateKey?.Invoke() ?? RSA.Create(2048);
            publicKey = Convert.ToBase64String(rsa.ExportRSAPublicKey());
            KeyStore.Save(paths.PrivateKey, rsa);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new AgentException(ExitCodes.RsaKeyError, $"Failed to generate or save the key pair at {paths.PrivateKey}: {e.GetType().Name}", e);
        }

        log.Info($"genkey: new key pair, private key saved at {paths.PrivateKey}");
        stdout.WriteLine(parsed.Has("json") ? new JsonObject { ["publicKey"] = publicKey }.ToJsonString() : publicKey);
    }

    private static async Task ConnectAsync(string[] args, AgentPaths paths, IDictionary environment, TextWriter stdout, AgentLog log, TimeProvider time, AgentServices services, CancellationToken cancellationToken)
    {
        var parsed = ParsedArguments.Parse(args,
        [
            new OptionSpec("use-saved-key", false),
            new OptionSpec("private-key", true),
            new OptionSpec("resource-group", true, "-g"),
            new OptionSpec("subscription-id", true, "-s"),
            new OptionSpec("tenant-id", true, "-t"),
            new OptionSpec("location", true, "-l"),
            new OptionSpec("resource-name", true, "-n"),
            new OptionSpec("vmid", true),
            new OptionSpec("cloud", true),
            new OptionSpec("correlation-id", true),
            new OptionSpec("tags", true),
            new OptionSpec("private-link-scope", true),
            new OptionSpec("gateway-id", true),
            new OptionSpec("ignore-network-check", false),
        ]);

        if (parsed.Positionals is not ["existing"])
        {
            throw new AgentException(ExitCodes.InvalidArgument, "Only 'azcmagent connect existing' is supported: the machine resource must be pre-created.");
        }

        // On AWS the agent's default resource name is the EC2 instance id.
        var name = parsed.Get("resource-name") ?? AgentPaths.Get(environment, "AWS_SSM_INSTANCE_ID");
        var missing = new List<string>();
        string Required(string flag, string? value = null)
        {
            value ??= parsed.Get(flag);
            if (string.IsNullOrWhiteSpace(value))
            {
                missing.Add("--" + flag);
                return "";
            }

            return value.Trim();
        }

        var resourceGroup = Required("resource-group");
        var subscription = Required("subscription-id");
        var tenant = Required("tenant-id");
        var location = Required("location");
        name = Required("resource-name", name);
        var vmIdText = Required("vmid");
        if (!parsed.Has("use-saved-key") && !parsed.Has("private-key"))
        {
            missing.Add("--use-saved-key or --private-key");
        }

        if (missing.Count > 0)
        {
            throw new AgentException(ExitCodes.MissingParameter, $"Missing mandatory parameter(s): {string.Join(", ", missing)}.");
        }

        if (parsed.Has("use-saved-key") && parsed.Has("private-key"))
        {
            throw new AgentException(ExitCodes.InvalidArgument, "Give either --use-saved-key or --private-key, not both.");
        }

        var subscriptionId = ParseGuid("subscription-id", subscription);
        var tenantId = ParseGuid("tenant-id", tenant);
        var vmId = ParseGuid("vmid", vmIdText);
        if (!ResourceNamePattern().IsMatch(name))
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"Invalid --resource-name '{name}': up to 54 letters, digits, '-', '_' or '.'.");
        }

        if (!ResourceGroupPattern().IsMatch(resourceGroup) || resourceGroup.EndsWith('.'))
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"Invalid --resource-group '{resourceGroup}'.");
        }

        if (!LocationPattern().IsMatch(location))
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"Invalid --location '{location}': use the region's short name, for example eastus.");
        }

        location = location.ToLowerInvariant();
        var cloud = parsed.Get("cloud") ?? "AzureCloud";
        cloud = Clouds.FirstOrDefault(c => c.Equals(cloud, StringComparison.OrdinalIgnoreCase))
            ?? throw new AgentException(ExitCodes.InvalidArgument, $"Unknown --cloud '{cloud}': use {string.Join(", ", Clouds)}.");
        var tags = ParseTags(parsed.Get("tags"));

        var config = AgentConfig.Load(paths.Config);
        if (config.Status == "Connected")
        {
            throw new AgentException(ExitCodes.AlreadyConnected, $"This machine is already connected to {config.ResourceId}. Run 'azcmagent disconnect --force-local-only' first.");
        }

        using var key = parsed.Get("private-key") is { } inline
            ? KeyStore.ParseInline(inline)
            : KeyStore.Load(paths.PrivateKey) ?? throw new AgentException(ExitCodes.PrivateKeyNotFound, $"No saved private key at {paths.PrivateKey}: run 'azcmagent genkey' first.");

        var resourceId = $"/subscriptions/{subscriptionId:D}/resourceGroups/{resourceGroup}/providers/Microsoft.HybridCompute/machines/{name}";
        var endpoint = IdentityEndpoint(environment, cloud, location);
        var correlationId = parsed.Get("correlation-id") ?? "";
        log.Info($"connect: resource {resourceId} vmId {vmId:D} identity service {endpoint} correlationId {correlationId}");

        using (var client = services.IdentityTransport is { } shared
            ? new IdentityClient(endpoint, shared)
            : new IdentityClient(endpoint, AgentPaths.Get(environment, "AZCMAGENT_CA_CERT")))
        {
            try
            {
                await client.ConnectAsync(resourceId, vmId, key, DescribeHost(paths, environment), cancellationToken);
            }
            catch (AgentException e) when (e.SavedKeyIsSpent && parsed.Has("use-saved-key"))
            {
                // The key can never serve again; any other refusal keeps it, since the same connect may still succeed.
                KeyStore.TryDelete(paths.PrivateKey);
                throw;
            }
        }

        new AgentConfig
        {
            Status = "Connected",
            ResourceName = name,
            ResourceGroup = resourceGroup,
            SubscriptionId = subscriptionId.ToString("D"),
            TenantId = tenantId.ToString("D"),
            Location = location,
            VmId = vmId.ToString("D"),
            ResourceId = resourceId,
            Cloud = cloud,
            CorrelationId = correlationId,
            CloudProvider = AgentPaths.Get(environment, "AWS_SSM_INSTANCE_ID") is { Length: > 0 } ? "AWS" : "N/A",
            LastHeartbeat = time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            PrivateLinkScope = parsed.Get("private-link-scope") ?? "",
            GatewayId = parsed.Get("gateway-id") ?? "",
            Tags = tags,
        }.Save(paths.Config);

        // The saved key has served its one purpose; leaving it on disk would only widen what a thief could take.
        if (parsed.Has("use-saved-key"))
        {
            KeyStore.TryDelete(paths.PrivateKey);
        }

        log.Info($"connect: connected {resourceId}");
        stdout.WriteLine($"Connected machine to Azure: {resourceId}");
    }

    private static void Show(string[] args, AgentPaths paths, TextWriter stdout, TimeProvider time)
    {
        var parsed = ParsedArguments.Parse(args, [new OptionSpec("json", false, "-j")]);
        RejectPositionals(parsed);
        var config = AgentConfig.Load(paths.Config);
        var status = config.Status;
        if (status == "Connected"
            && DateTimeOffset.TryParse(config.LastHeartbeat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var heartbeat)
            && time.GetUtcNow() - heartbeat > ExpiredAfter)
        {
            status = "Expired";
        }

        if (parsed.Has("json"))
        {
            stdout.WriteLine(new JsonObject
            {
                ["status"] = status,
                ["resourceName"] = config.ResourceName,
                ["resourceGroup"] = config.ResourceGroup,
                ["subscriptionId"] = config.SubscriptionId,
                ["tenantId"] = config.TenantId,
                ["location"] = config.Location,
                ["vmId"] = config.VmId,
                ["resourceId"] = config.ResourceId,
                ["correlationId"] = config.CorrelationId,
                ["cloud"] = config.Cloud,
                ["agentVersion"] = Version,
                ["lastHeartbeat"] = config.LastHeartbeat,
                ["cloudProvider"] = config.CloudProvider,
            }.ToJsonString());
            return;
        }

        void Line(string label, string value) => stdout.WriteLine($"{label,-40}: {value}");
        Line("Resource Name", config.ResourceName);
        Line("Resource Group Name", config.ResourceGroup);
        Line("Resource Namespace", "Microsoft.HybridCompute");
        Line("Resource Id", config.ResourceId);
        Line("Subscription ID", config.SubscriptionId);
        Line("Tenant ID", config.TenantId);
        Line("VM ID", config.VmId);
        Line("Correlation ID", config.CorrelationId);
        Line("Azure Region", config.Location);
        Line("Cloud", config.Cloud);
        Line("Agent Version", Version);
        Line("Agent Status", status);
        Line("Agent Last Heartbeat", config.LastHeartbeat);
        Line("Cloud Provider", config.CloudProvider);
    }

    /// <summary>
    /// Only the local form is supported: the real agent's plain disconnect also deletes the Azure resource with
    /// an interactive sign-in, which a machine without credentials cannot do. Arcboard deletes through ARM itself.
    /// </summary>
    private static void Disconnect(string[] args, AgentPaths paths, TextWriter stdout, AgentLog log)
    {
        var parsed = ParsedArguments.Parse(args, [new OptionSpec("force-local-only", false)]);
        RejectPositionals(parsed);
        if (!parsed.Has("force-local-only"))
        {
            throw new AgentException(ExitCodes.InvalidArgument, "Disconnecting from Azure needs credentials this agent does not hold; use 'azcmagent disconnect --force-local-only' and delete the Azure resource through ARM.");
        }

        var previous = AgentConfig.Load(paths.Config);
        new AgentConfig().Save(paths.Config);
        log.Info($"disconnect: local state cleared (was {previous.Status} {previous.ResourceId})");
        stdout.WriteLine("Disconnected the machine locally; the Azure resource, if any, is left as it is.");
    }

    private static Uri IdentityEndpoint(IDictionary environment, string cloud, string location)
    {
        var configured = AgentPaths.Get(environment, "AZCMAGENT_IDENTITY_ENDPOINT");
        var text = !string.IsNullOrWhiteSpace(configured)
            ? configured
            : cloud switch
            {
                "AzureUSGovernment" => $"https://{location}.his.arc.azure.us",
                "AzureChinaCloud" => $"https://{location}.his.arc.azure.cn",
                _ => $"https://{location}.his.arc.azure.com",
            };

        // A trailing slash keeps the base path when relative paths are resolved against it.
        return Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            ? uri
            : throw new AgentException(ExitCodes.InvalidArgument, $"AZCMAGENT_IDENTITY_ENDPOINT '{text}' is not an http(s) URL.");
    }

    private static HostFacts DescribeHost(AgentPaths paths, IDictionary environment)
    {
        if (paths.IsWindows)
        {
            var computer = AgentPaths.Get(environment, "COMPUTERNAME");
            return OperatingSystem.IsWindows()
                ? new HostFacts(RuntimeInformation.OSDescription, Environment.OSVersion.Version.ToString(), "windows", computer ?? Environment.MachineName)
                : new HostFacts("Windows Server 2022 Datacenter", "10.0.20348", "windows", computer ?? Environment.MachineName);
        }

        var release = ReadOsRelease(Path.Combine(paths.Root, "etc", "os-release")) ?? ReadOsRelease("/etc/os-release") ?? [];
        return new HostFacts(
            release.GetValueOrDefault("ID", "linux"),
            release.GetValueOrDefault("VERSION_ID", Environment.OSVersion.Version.ToString()),
            "linux",
            AgentPaths.Get(environment, "HOSTNAME") is { Length: > 0 } host ? host : Environment.MachineName);
    }

    private static Dictionary<string, string>? ReadOsRelease(string path)
    {
        try
        {
            return File.ReadLines(path)
                .Select(line => line.Split('=', 2))
                .Where(parts => parts.Length == 2)
                .GroupBy(parts => parts[0])
                .ToDictionary(g => g.Key, g => g.First()[1].Trim('"'));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses <c>Name=Value,Name2='v w'</c> (single or double quotes protect commas and spaces).</summary>
    internal static Dictionary<string, string> ParseTags(string? text)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text))
        {
            return tags;
        }

        var i = 0;
        while (i < text.Length)
        {
            var equals = text.IndexOf('=', i);
            if (equals < 0)
            {
                throw new AgentException(ExitCodes.InvalidArgument, "--tags must look like Name=Value,Name2='Value 2'.");
            }

            var key = text[i..equals].Trim();
            if (key.Length == 0)
            {
                throw new AgentException(ExitCodes.InvalidArgument, "--tags has an empty tag name.");
            }

            i = equals + 1;
            string value;
            if (i < text.Length && text[i] is '\'' or '"')
            {
                var quote = text[i];
                var close = text.IndexOf(quote, i + 1);
                if (close < 0)
                {
                    throw new AgentException(ExitCodes.InvalidArgument, $"--tags: unclosed quote in the value of '{key}'.");
                }

                value = text[(i + 1)..close];
                i = close + 1;
                if (i < text.Length && text[i] != ',')
                {
                    throw new AgentException(ExitCodes.InvalidArgument, $"--tags: expected ',' after the value of '{key}'.");
                }
            }
            else
            {
                var comma = text.IndexOf(',', i);
                var end = comma < 0 ? text.Length : comma;
                value = text[i..end].Trim();
                i = end;
            }

            tags[key] = value;
            i++;
        }

        return tags;
    }

    private static Guid ParseGuid(string flag, string value) =>
        Guid.TryParse(value, out var guid) ? guid : throw new AgentException(ExitCodes.InvalidArgument, $"--{flag} '{value}' is not a GUID.");

    private static void RejectPositionals(ParsedArguments parsed)
    {
        if (parsed.Positionals.Count > 0)
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"Unexpected argument '{parsed.Positionals[0]}'.");
        }
    }

    [GeneratedRegex(@"^[a-zA-Z0-9-_\.]{1,54}$")]
    private static partial Regex ResourceNamePattern();

    [GeneratedRegex(@"^[-\w\._\(\)]{1,90}$")]
    private static partial Regex ResourceGroupPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9]{1,64}$")]
    private static partial Regex LocationPattern();
}
