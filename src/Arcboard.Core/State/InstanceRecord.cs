using Arcboard.Core.Fleet;

namespace Arcboard.Core.State;

/// <summary>
/// Where an instance stands in the onboarding flow. Each stage is recorded durably before the step that leaves it
/// is attempted, so a restarted connector knows exactly which side effects may already have happened.
/// </summary>
public enum OnboardingStage
{
    /// <summary>Seen, nothing sent yet.</summary>
    Discovered,

    /// <summary>The probe-and-genkey command is about to be sent; it may or may not have reached SSM.</summary>
    KeyRequesting,

    /// <summary>The probe-and-genkey command was sent; <see cref="InstanceRecord.CommandId"/> holds its id.</summary>
    KeyRequested,

    /// <summary>The instance printed a valid public key; nothing exists in Azure yet.</summary>
    KeyReceived,

    /// <summary>A vmId was chosen and the PUT is about to be made; the machine may or may not exist.</summary>
    MachineCreating,

    /// <summary>The machine exists in ARM with this instance's key and vmId.</summary>
    MachineCreated,

    /// <summary>The connect command is about to be sent; it may or may not have reached SSM.</summary>
    ConnectRequesting,

    /// <summary>The connect command was sent; <see cref="InstanceRecord.CommandId"/> holds its id.</summary>
    ConnectRequested,

    /// <summary>ARM reports the machine Connected.</summary>
    Connected,
}

public enum Outcome
{
    Onboarded,
    AlreadyConnected,
    Skipped,
    Failed,

    /// <summary>The machine Arcboard created for the instance was deleted (terminated instance, or offboarded); the reason says which machine.</summary>
    Removed,
}

/// <summary>Arcboard's durable knowledge of one instance. Never holds a private key or any other secret.</summary>
public sealed record InstanceRecord
{
    public required InstanceKey Key { get; init; }
    public required Platform Platform { get; init; }
    public required OnboardingStage Stage { get; init; }

    /// <summary>The Run Command in flight for <see cref="Stage"/> (KeyRequested, ConnectRequested).</summary>
    public string? CommandId { get; init; }

    /// <summary>When <see cref="CommandId"/> was sent, to tell a slow command from a lost one.</summary>
    public DateTimeOffset? CommandSentAt { get; init; }

    /// <summary>The public key the instance printed (base64 PKCS#1 RSAPublicKey DER).</summary>
    public string? PublicKey { get; init; }

    /// <summary>The vmId chosen for the machine; recorded before the PUT that uses it.</summary>
    public Guid? VmId { get; init; }

    public string? SubscriptionId { get; init; }
    public string? ResourceGroup { get; init; }
    public string? MachineName { get; init; }
    public string? Location { get; init; }

    /// <summary>The ARM id of the machine once it exists.</summary>
    public string? ResourceId { get; init; }

    /// <summary>True when Arcboard created the machine (and so may delete it).</summary>
    public bool CreatedByArcboard { get; init; }

    /// <summary>The last pass's verdict; null while the instance is mid-flow.</summary>
    public Outcome? Outcome { get; init; }

    /// <summary>Why, in words a person understands.</summary>
    public string? Reason { get; init; }

    /// <summary>The step that failed, when <see cref="Outcome"/> is Failed.</summary>
    public string? FailedStep { get; init; }

    /// <summary>How many times the current stage has been attempted without progress.</summary>
    public int Attempts { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}
