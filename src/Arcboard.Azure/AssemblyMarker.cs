namespace Arcboard.Azure;

internal static class AssemblyMarker;
