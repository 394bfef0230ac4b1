namespace Arcboard.Aws;

internal static class AssemblyMarker;
