namespace Arcboard.Core;

internal static class AssemblyMarker;
