using System.Collections.Concurrent;

namespace Arcboard.Sandbox.Admin;

/// <summary>Counts every call the sandbox answers, by service and operation, for <c>GET /_sandbox/stats</c>.</summary>
public sealed class SandboxStats
{
    private readonly ConcurrentDictionary<(string Service, string Operation), long> _calls = new();
    private readonly ConcurrentDictionary<(string Service, string Operation), long> _throttled = new();
    private readonly ConcurrentDictionary<string, long> _faults = new(StringComparer.Ordinal);

    /// <summary>Counts one call, whatever its outcome. <paramref name="service"/> is "ec2", "ssm", "sts", "arm", "token" or "identity".</summary>
    public void Record(string service, string operation) =>
        _calls.AddOrUpdate((service, operation), 1, static (_, n) => n + 1);

    /// <summary>Counts one call that was answered with a throttling error.</summary>
    public void RecordThrottled(string service, string operation) =>
        _throttled.AddOrUpdate((service, operation), 1, static (_, n) => n + 1);

    /// <summary>Counts one injected fault by kind (for example "arm-5xx", "ssm-throttling", "command-hang").</summary>
    public void RecordFault(string kind) =>
        _faults.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    public SortedDictionary<string, long> FaultSnapshot() => new(_faults, StringComparer.Ordinal);

    public long Count(string service, string operation) => _calls.TryGetValue((service, operation), out var n) ? n : 0;

    /// <summary>service -> operation -> count, sorted, for JSON.</summary>
    public SortedDictionary<string, SortedDictionary<string, long>> Snapshot() => Group(_calls);

    public SortedDictionary<string, SortedDictionary<string, long>> ThrottledSnapshot() => Group(_throttled);

    public void Reset()
    {
        _calls.Clear();
        _throttled.Clear();
        _faults.Clear();
    }

    private static SortedDictionary<string, SortedDictionary<string, long>> Group(ConcurrentDictionary<(string Service, string Operation), long> counts)
    {
        var result = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var ((service, operation), count) in counts)
        {
            if (!result.TryGetValue(service, out var byOperation))
            {
                result[service] = byOperation = new SortedDictionary<string, long>(StringComparer.Ordinal);
            }

            byOperation[operation] = count;
        }

        return result;
    }
}
