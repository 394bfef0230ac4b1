namespace Arcboard.Sandbox.Aws;

/// <summary>
/// A command sent to an instance while an earlier invocation on it was still Pending or InProgress: the client sent
/// again without having read how the earlier run ended. A crash-safe connector never causes one.
/// </summary>
public sealed record CommandOverlap(string InstanceId, string EarlierCommandId, string EarlierStatus, string NewCommandId, DateTimeOffset At);
