using Cartridges.Grains.Hosting;

namespace Cartridges.Cluster.Tests.Durability;

/// <summary>Work directories of silos that are gone are deleted; live and recently touched ones stay.</summary>
public sealed class WorkDirectoryCollectorTests
{
    [Fact]
    public void Collect_DeletesOnlyQuietDirectoriesOfSilosThatAreGone()
    {
        var root = Directory.CreateTempSubdirectory("cartridges-work-").FullName;
        try
        {
            string Make(string silo, TimeSpan age)
            {
                var file = Path.Combine(root, silo, "cartridges", "t_a", "dataset.bin");
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllText(file, "x");
                foreach (var p in new[] { file, Path.GetDirectoryName(file)!, Path.Combine(root, silo, "cartridges"), Path.Combine(root, silo) })
                    Directory.SetLastWriteTimeUtc(p, DateTime.UtcNow - age);
                File.SetLastWriteTimeUtc(file, DateTime.UtcNow - age);
                return silo;
            }
            var live = Make("S127.0.0.1_11111_1", TimeSpan.FromHours(5));
            var dead = Make("S127.0.0.1_11112_1", TimeSpan.FromHours(5));
            var busy = Make("S127.0.0.1_11113_1", TimeSpan.Zero); // not listed (yet), but written a moment ago

            var deleted = WorkDirectoryCollector.Collect(root, new HashSet<string> { live }, TimeSpan.FromMinutes(2));

            Assert.Equal([dead], deleted);
            Assert.True(Directory.Exists(Path.Combine(root, live)));
            Assert.True(Directory.Exists(Path.Combine(root, busy)));
            Assert.False(Directory.Exists(Path.Combine(root, dead)));
            Assert.Empty(WorkDirectoryCollector.Collect(Path.Combine(root, "absent"), new HashSet<string>(), TimeSpan.Zero));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
