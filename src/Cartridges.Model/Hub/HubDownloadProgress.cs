namespace Cartridges.Model.Hub;

/// <summary>Progress of one file's download: bytes on disk so far and the expected total, when known.</summary>
public readonly record struct HubDownloadProgress(string File, long BytesDone, long? TotalBytes);
