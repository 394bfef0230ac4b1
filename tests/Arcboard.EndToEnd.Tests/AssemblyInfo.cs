// These tests start whole sandboxes, and the PowerShell ones set process-wide environment variables; run one class
// at a time so that no test sees another's PATH or competes for the two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
