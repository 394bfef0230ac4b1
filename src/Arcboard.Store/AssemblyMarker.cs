namespace Arcboard.Store;

internal static class AssemblyMarker;
