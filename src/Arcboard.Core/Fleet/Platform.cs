namespace Arcboard.Core.Fleet;

/// <summary>The operating system family of an instance, which decides the Run Command document and script dialect.</summary>
public enum Platform
{
    Linux,
    Windows,
}
