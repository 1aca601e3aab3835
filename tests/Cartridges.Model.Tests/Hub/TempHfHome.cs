namespace Cartridges.Model.Tests.Hub;

/// <summary>A throw-away HF_HOME; its `hub` folder is the cache root.</summary>
sealed class TempHfHome : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("hf-home-").FullName;

    public string Hub => System.IO.Path.Combine(Path, "hub");

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
