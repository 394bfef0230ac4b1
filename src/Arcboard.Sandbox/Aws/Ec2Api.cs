using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Aws;

/// <summary>EC2 over the EC2 Query protocol, XML shapes as in botocore's ec2 model.</summary>
public sealed class Ec2Api(SandboxFleet fleet)
{
    public static readonly XNamespace Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

    public XElement Handle(AwsCall call, IReadOnlyDictionary<string, string> form) => call.Operation switch
    {
        "DescribeInstances" => DescribeInstances(call, form),
        "DescribeRegions" => DescribeRegions(call, form),
        _ => throw new AwsServiceException("InvalidAction", $"The action {call.Operation} is not valid for this web service."),
    };

    private XElement DescribeInstances(AwsCall call, IReadOnlyDictionary<string, string> form)
    {
        var ids = Indexed(form, "InstanceId");
        int? maxResults = null;
        if (form.TryGetValue("MaxResults", out var max))
        {
            if (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed is < 5 or > 1000)
            {
                throw new AwsServiceException("InvalidParameterValue", $"Value ( {max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.");
            }

            if (ids.Count > 0)
            {
                throw new AwsServiceException("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
            }

            maxResults = parsed;
        }

        foreach (var id in ids)
        {
            if (!FleetFile.InstanceIdPattern().IsMatch(id))
            {
                throw new AwsServiceException("InvalidInstanceID.Malformed", $"Invalid id: \"{id}\"");
            }
        }

        IEnumerable<SandboxInstance> instances = fleet.InScope(call.AccountId, call.Region);
        if (ids.Count > 0)
        {
            var found = instances.Where(i => ids.Contains(i.Id)).ToList();
            var missing = ids.Where(id => found.All(i => i.Id != id)).ToList();
            if (missing.Count > 0)
            {
                throw new AwsServiceException("InvalidInstanceID.NotFound", missing.Count == 1 ? $"The instance ID '{missing[0]}' does not exist" : $"The instance IDs '{string.Join(", ", missing)}' do not exist");
            }

            instances = found;
        }

        foreach (var (name, values) in Filters(form))
        {
            var patterns = values.Select(Wildcard).ToList();
            bool Any(string? value) => value is not null && patterns.Any(p => p.IsMatch(value));
            instances = name switch
            {
                "instance-state-name" => instances.Where(i => Any(i.State.ToWire())),
                "instance-state-code" => instances.Where(i => Any(((int)i.State).ToString(CultureInfo.InvariantCulture))),
                "instance-id" => instances.Where(i => Any(i.Id)),
                "tag-key" => instances.Where(i => i.Tags.Keys.Any(Any)),
                "tag-value" => instances.Where(i => i.Tags.Values.Any(Any)),
                "platform" => instances.Where(i => i.Platform == InstancePlatform.Windows && Any("windows")),
                "platform-details" => instances.Where(i => Any(PlatformDetails(i))),
                "availability-zone" => instances.Where(i => Any(i.AvailabilityZone)),
                "instance-type" => instances.Where(i => Any(i.InstanceType)),
                "private-ip-address" => instances.Where(i => Any(i.PrivateIpAddress)),
                "private-dns-name" => instances.Where(i => Any(i.PrivateDnsName)),
                _ when name.StartsWith("tag:", StringComparison.Ordinal) => instances.Where(i => i.Tags.TryGetValue(name[4..], out var v) && Any(v)),
                _ => throw new AwsServiceException("InvalidParameterValue", $"The filter '{name}' is invalid"),
            };
        }

        var all = instances.ToList();
        var offset = AwsPaging.Offset(form.GetValueOrDefault("NextToken"), "InvalidPaginationToken");
        var page = maxResults is { } size ? all.Skip(offset).Take(size).ToList() : all.Skip(offset).ToList();
        var response = Response("DescribeInstancesResponse", call,
            new XElement(Ns + "reservationSet", page.Select(i => new XElement(Ns + "item",
                new XElement(Ns + "reservationId", i.ReservationId),
                new XElement(Ns + "ownerId", i.AccountId),
                new XElement(Ns + "groupSet"),
                new XElement(Ns + "instancesSet", Instance(i))))));
        if (offset + page.Count < all.Count)
        {
            response.Add(new XElement(Ns + "nextToken", AwsPaging.Token(offset + page.Count)));
        }

        return response;
    }

    private XElement DescribeRegions(AwsCall call, IReadOnlyDictionary<string, string> form)
    {
        var names = Indexed(form, "RegionName");
        var regions = fleet.RegionsOf(call.AccountId).Where(r => names.Count == 0 || names.Contains(r)).ToList();
        if (names.FirstOrDefault(n => !regions.Contains(n)) is { } unknown)
        {
            throw new AwsServiceException("InvalidParameterValue", $"Invalid region: {unknown}");
        }

        return Response("DescribeRegionsResponse", call,
            new XElement(Ns + "regionInfo", regions.Select(r => new XElement(Ns + "item",
                new XElement(Ns + "regionName", r),
                new XElement(Ns + "regionEndpoint", $"ec2.{r}.amazonaws.com"),
                new XElement(Ns + "optInStatus", "opt-in-not-required")))));
    }

    private static XElement Instance(SandboxInstance i)
    {
        var state = i.State;
        var windows = i.Platform == InstancePlatform.Windows;
        var item = new XElement(Ns + "item",
            new XElement(Ns + "instanceId", i.Id),
            new XElement(Ns + "imageId", i.ImageId),
            new XElement(Ns + "instanceState", new XElement(Ns + "code", (int)state), new XElement(Ns + "name", state.ToWire())),
            new XElement(Ns + "privateDnsName", state == InstanceState.Terminated ? "" : i.PrivateDnsName),
            new XElement(Ns + "dnsName", ""),
            new XElement(Ns + "reason", state is InstanceState.Stopped or InstanceState.Terminated ? $"User initiated ({i.LaunchTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} GMT)" : ""),
            new XElement(Ns + "amiLaunchIndex", 0),
            new XElement(Ns + "productCodes"),
            new XElement(Ns + "instanceType", i.InstanceType),
            new XElement(Ns + "launchTime", Iso(i.LaunchTime)),
            new XElement(Ns + "placement",
                new XElement(Ns + "availabilityZone", i.AvailabilityZone),
                new XElement(Ns + "groupName", ""),
                new XElement(Ns + "tenancy", "default")));
        if (windows)
        {
            item.Add(new XElement(Ns + "platform", "windows"));
        }

        item.Add(
            new XElement(Ns + "monitoring", new XElement(Ns + "state", "disabled")),
            new XElement(Ns + "subnetId", "subnet-0" + i.ReservationId[3..19]),
            new XElement(Ns + "vpcId", "vpc-0" + i.ImageId[5..21]));
        if (state != InstanceState.Terminated)
        {
            item.Add(new XElement(Ns + "privateIpAddress", i.PrivateIpAddress));
        }

        item.Add(
            new XElement(Ns + "sourceDestCheck", "true"),
            new XElement(Ns + "groupSet"));
        if (state is InstanceState.Stopped or InstanceState.Terminated or InstanceState.Stopping)
        {
            item.Add(new XElement(Ns + "stateReason",
                new XElement(Ns + "code", "Client.UserInitiatedShutdown"),
                new XElement(Ns + "message", "Client.UserInitiatedShutdown: User initiated shutdown")));
        }

        item.Add(
            new XElement(Ns + "architecture", "x86_64"),
            new XElement(Ns + "rootDeviceType", "ebs"),
            new XElement(Ns + "rootDeviceName", windows ? "/dev/sda1" : "/dev/xvda"),
            new XElement(Ns + "blockDeviceMapping"),
            new XElement(Ns + "virtualizationType", "hvm"),
            new XElement(Ns + "clientToken", ""),
            new XElement(Ns + "tagSet", i.Tags.Select(t => new XElement(Ns + "item", new XElement(Ns + "key", t.Key), new XElement(Ns + "value", t.Value)))),
            new XElement(Ns + "hypervisor", "xen"),
            new XElement(Ns + "networkInterfaceSet"),
            new XElement(Ns + "iamInstanceProfile",
                new XElement(Ns + "arn", $"arn:aws:iam::{i.AccountId}:instance-profile/AmazonSSMRoleForInstancesQuickSetup"),
                new XElement(Ns + "id", "AIPA" + i.ReservationId[3..19].ToUpperInvariant())),
            new XElement(Ns + "ebsOptimized", "false"),
            new XElement(Ns + "enaSupport", "true"),
            new XElement(Ns + "cpuOptions", new XElement(Ns + "coreCount", 1), new XElement(Ns + "threadsPerCore", 2)),
            new XElement(Ns + "metadataOptions",
                new XElement(Ns + "state", "applied"),
                new XElement(Ns + "httpTokens", "required"),
                new XElement(Ns + "httpPutResponseHopLimit", 2),
                new XElement(Ns + "httpEndpoint", "enabled")),
            new XElement(Ns + "platformDetails", PlatformDetails(i)),
            new XElement(Ns + "usageOperation", windows ? "RunInstances:0002" : "RunInstances"),
            new XElement(Ns + "usageOperationUpdateTime", Iso(i.LaunchTime)),
            new XElement(Ns + "currentInstanceBootMode", "legacy-bios"));
        return item;
    }

    private static string PlatformDetails(SandboxInstance i) => i.Platform == InstancePlatform.Windows ? "Windows" : "Linux/UNIX";

    internal static XElement Response(string name, AwsCall call, params object[] content) =>
        new(Ns + name, new XElement(Ns + "requestId", call.RequestId), content);

    internal static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Values of <c>Name.1</c>, <c>Name.2</c>... in index order.</summary>
    internal static List<string> Indexed(IReadOnlyDictionary<string, string> form, string name) =>
        [.. form.Where(p => p.Key.StartsWith(name + ".", StringComparison.Ordinal) && int.TryParse(p.Key.AsSpan(name.Length + 1), out _))
            .OrderBy(p => int.Parse(p.Key.AsSpan(name.Length + 1), CultureInfo.InvariantCulture))
            .Select(p => p.Value)];

    private static List<(string Name, List<string> Values)> Filters(IReadOnlyDictionary<string, string> form)
    {
        var result = new List<(string, List<string>)>();
        for (var n = 1; form.TryGetValue($"Filter.{n}.Name", out var name); n++)
        {
            result.Add((name, Indexed(form, $"Filter.{n}.Value")));
        }

        return result;
    }

    private static Regex Wildcard(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
}
