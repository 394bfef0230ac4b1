namespace Arcboard.Sandbox;

internal static class AssemblyMarker;
