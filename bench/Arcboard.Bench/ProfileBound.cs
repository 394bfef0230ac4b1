using System.Text.Json.Nodes;

namespace Arcboard.Bench;

/// <summary>Turns the sandbox's profile document (<c>GET /_sandbox/profile</c>) into what the lower bound needs.</summary>
public static class ProfileBound
{
    /// <summary>
    /// Durations are seconds in the profile's own clock; quotas are null for a profile without any. A script's time on
    /// an instance is the fixed cost of running a script plus what its agent command takes.
    /// </summary>
    public static BoundModel FromProfileJson(JsonNode? profile)
    {
        if (profile is not JsonObject root)
        {
            return BoundModel.Unlimited;
        }

        var latencies = root["latencies"] as JsonObject;
        var quotas = root["quotas"] as JsonObject;
        var scriptRun = Seconds(latencies, "scriptRun");
        return new BoundModel
        {
            ArmWrites = Bucket(quotas, "armWrites"),
            SendCommand = Bucket(quotas, "ssmSendCommand"),
            Ec2Reads = Bucket(quotas, "ec2Reads"),
            SsmReads = Bucket(quotas, "ssmReads"),
            CommandDelivery = Seconds(latencies, "commandDelivery"),
            GenKeyRun = scriptRun + Seconds(latencies, "genkey"),
            ConnectRun = scriptRun + Seconds(latencies, "connect"),
            ArmWriteLatency = Seconds(latencies, "armWrite"),
            ArmReadLatency = Seconds(latencies, "armRead"),
        };
    }

    private static TimeSpan Seconds(JsonObject? parent, string name) =>
        parent?[name] is JsonValue value && value.TryGetValue<double>(out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero;

    private static TokenBucket? Bucket(JsonObject? quotas, string name) =>
        quotas?[name] is JsonObject bucket
        && bucket["burst"] is JsonValue burst && burst.TryGetValue<double>(out var b)
        && bucket["refillPerSecond"] is JsonValue refill && refill.TryGetValue<double>(out var r)
            ? new TokenBucket(b, r)
            : null;
}
