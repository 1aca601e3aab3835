using Cartridges.Model.Hub;

namespace Cartridges.Model.Tests.Hub;

/// <summary>Synchronous IProgress (Progress&lt;T&gt; posts later) that keeps every report.</summary>
sealed class RecordingProgress(Action<HubDownloadProgress>? onReport = null) : IProgress<HubDownloadProgress>
{
    readonly List<HubDownloadProgress> _reports = [];

    public IReadOnlyList<HubDownloadProgress> Reports
    {
        get { lock (_reports) return [.. _reports]; }
    }

    public void Report(HubDownloadProgress value)
    {
        lock (_reports) _reports.Add(value);
        onReport?.Invoke(value);
    }
}
