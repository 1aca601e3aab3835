using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Cartridges.Deploy.Tests;

/// <summary>docker-compose.yml and the Dockerfiles have the parts a deployment needs, and only those privileges.</summary>
public sealed class ComposeAndDockerfileTests
{
    const string Cli = "src/Cartridges.Cli/Cartridges.Cli.csproj";
    const string Silo = "src/Cartridges.Silo/Cartridges.Silo.csproj";

    public static TheoryData<string> Dockerfiles => ["Dockerfile", "Dockerfile.cuda"];

    static YamlMappingNode Compose()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(RepoFiles.Read("docker-compose.yml")));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node)[key];

    static string Value(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;

    static IEnumerable<string> Values(YamlNode node, string key) =>
        ((YamlMappingNode)node).Children.TryGetValue(key, out var list)
            ? ((YamlSequenceNode)list).Children.Select(c => ((YamlScalarNode)c).Value!)
            : [];

    /// <summary>The UID and GID of the final stage's last USER; numeric, so Kubernetes can verify runAsNonRoot.</summary>
    internal static (long Uid, long Gid) ImageUser(string dockerfile)
    {
        var file = Dockerfile.Load(dockerfile);
        var user = file.InStage(file.FinalStage).Last(i => i.Keyword == "USER").Arguments.Split(':');
        Assert.True(user.Length == 2, $"{dockerfile}: USER {string.Join(':', user)} names no group");
        Assert.True(long.TryParse(user[0], out var uid), $"{dockerfile}: USER {user[0]} is not a numeric UID");
        Assert.True(long.TryParse(user[1], out var gid), $"{dockerfile}: USER group {user[1]} is not a numeric GID");
        return (uid, gid);
    }

    [Fact]
    public void Compose_HasPostgresWithSchema_TwoGpuSilos_OneCpuGateway_HealthChecks_Volumes()
    {
        var root = Compose();
        var services = Map(root, "services");
        var postgres = services["postgres"];
        Assert.StartsWith("docker.io/library/postgres:", Value(postgres, "image"));
        Assert.True(((YamlMappingNode)postgres).Children.ContainsKey("healthcheck"));
        var migrate = services["migrate"];
        Assert.Contains("migrate", Values(migrate, "entrypoint"));

        // YAML merge keys (<<) are resolved by the loader only when asked; read them the way compose does.
        foreach (var name in new[] { "silo-gpu-1", "silo-gpu-2" })
        {
            var silo = (YamlMappingNode)services[name];
            var devices = (YamlSequenceNode)Map(Map(Map(silo, "deploy"), "resources"), "reservations")["devices"];
            var device = (YamlMappingNode)devices.Children[0];
            Assert.Equal("nvidia", Value(device, "driver"));
            Assert.Contains("gpu", Values(device, "capabilities"));
            Assert.Equal("true", Value(Map(silo, "environment"), "Orleans__Metadata__gpu"));
        }
        var gateway = (YamlMappingNode)services["gateway"];
        Assert.Equal("false", Value(Map(gateway, "environment"), "Orleans__Metadata__gpu"));
        Assert.False(gateway.Children.ContainsKey("deploy"));
        Assert.Contains("8080:8080", Values(gateway, "ports"));

        var anchor = (YamlMappingNode)root["x-silo"];
        Assert.True(anchor.Children.ContainsKey("healthcheck"));
        var env = Map(anchor, "environment");
        Assert.Equal("Postgres", Value(env, "Cartridges__Profile"));
        Assert.Equal("/blobs", Value(env, "Cartridges__BlobDirectory"));
        Assert.Contains("blobs:/blobs", Values(anchor, "volumes"));
        Assert.True(Map(root, "volumes").Children.ContainsKey("blobs"));
        Assert.True(Map(root, "volumes").Children.ContainsKey("pgdata"));
    }

    [Fact]
    public void Compose_HasNoDefaultSecrets()
    {
        var text = RepoFiles.Read("docker-compose.yml");
        Assert.DoesNotContain("change-me", text, StringComparison.OrdinalIgnoreCase);
        // ${NAME:-default} and ${NAME-default} would start a cluster with a password everyone knows; ${NAME:?} refuses to.
        var references = Regex.Matches(text, @"\$\{(?<name>\w+)(?<op>:?[-?+=])?[^}]*\}").ToList();
        var secrets = references.Where(m => Regex.IsMatch(m.Groups["name"].Value, "PASSWORD|KEY|SECRET|TOKEN", RegexOptions.IgnoreCase)).ToList();
        Assert.Contains(secrets, m => m.Groups["name"].Value == "POSTGRES_PASSWORD");
        Assert.Contains(secrets, m => m.Groups["name"].Value == "CARTRIDGES_ADMIN_KEY");
        Assert.All(secrets, m => Assert.Equal(":?", m.Groups["op"].Value));

        var root = Compose();
        var environments = Map(root, "services").Children.Values.Append(root["x-silo"])
            .Select(s => (YamlMappingNode)s)
            .Where(s => s.Children.ContainsKey("environment"))
            .SelectMany(s => Map(s, "environment").Children.Values.OfType<YamlScalarNode>().Select(v => v.Value!))
            .ToList();
        Assert.Contains(environments, v => v.Contains("Password=", StringComparison.Ordinal));
        Assert.All(environments.Where(v => v.Contains("Password=", StringComparison.Ordinal)),
            v => Assert.Contains("Password=${POSTGRES_PASSWORD:?", v, StringComparison.Ordinal));
    }

    [Fact]
    public void Compose_RunsEveryContainerWithoutRootOrPrivileges()
    {
        var root = Compose();
        var services = Map(root, "services");
        // The silos take the anchor's settings; an override of its own would replace them.
        var containers = new Dictionary<string, YamlMappingNode>
        {
            ["x-silo"] = (YamlMappingNode)root["x-silo"],
            ["postgres"] = (YamlMappingNode)services["postgres"],
            ["migrate"] = (YamlMappingNode)services["migrate"],
        };
        foreach (var (name, service) in containers)
        {
            Assert.Contains("ALL", Values(service, "cap_drop"));
            Assert.Contains("no-new-privileges:true", Values(service, "security_opt"));
        }
        foreach (var (name, service) in services.Children.Select(s => (((YamlScalarNode)s.Key).Value!, (YamlMappingNode)s.Value)))
        {
            foreach (var key in new[] { "cap_add", "privileged" })
                Assert.False(service.Children.ContainsKey(key), $"{name}: {key}");
            if (service.Children.ContainsKey("user"))
                Assert.DoesNotMatch(@"^(0|root)(:|$)", Value(service, "user"));
        }
        // The silo and CLI images run as their own non-root USER; the official PostgreSQL image would start as root.
        Assert.Equal("999:999", Value(services["postgres"], "user"));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_RunsAsNonRootUser_WhoOwnsTheWritableDirectories(string name)
    {
        var (uid, gid) = ImageUser(name);
        Assert.NotEqual(0, uid);
        Assert.NotEqual(0, gid);

        var file = Dockerfile.Load(name);
        var final = file.InStage(file.FinalStage).ToList();
        // Everything the app writes to: declared volumes, the data directory and the compose blob volume.
        var env = string.Join(' ', final.Where(i => i.Keyword == "ENV").Select(i => i.Arguments));
        var dataDirectory = Regex.Match(env, @"Cartridges__DataDirectory=(\S+)").Groups[1].Value;
        Assert.NotEmpty(dataDirectory);
        var writable = final.Where(i => i.Keyword == "VOLUME").SelectMany(i => i.Words).Append(dataDirectory).Append("/blobs").Distinct();
        foreach (var directory in writable)
        {
            var owned = final.Any(i => i.Keyword == "RUN" && i.Words.Contains(directory) &&
                (i.Arguments.Contains($"-o {uid} -g {gid}", StringComparison.Ordinal) || i.Arguments.Contains($"chown {uid}:{gid}", StringComparison.Ordinal)));
            Assert.True(owned, $"{name}: {directory} is not created owned by {uid}:{gid}");
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_PublishesOnce_SoLibtorchIsInTheImageOnce(string name)
    {
        var file = Dockerfile.Load(name);
        var publish = Assert.Single(file.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.Single(Regex.Matches(publish.Arguments, "dotnet publish"));
        Assert.Contains($"dotnet publish {Cli}", publish.Arguments, StringComparison.Ordinal);
        // The silo rides along only because the CLI references it.
        Assert.Contains(Silo, ProjectGraph.References(Cli));
        Assert.Contains("test -f /out/Cartridges.Silo.runtimeconfig.json", publish.Arguments, StringComparison.Ordinal);
        Assert.Contains("test -f /out/Cartridges.Silo.deps.json", publish.Arguments, StringComparison.Ordinal);

        var final = file.InStage(file.FinalStage).ToList();
        var copy = Assert.Single(final, i => i.Keyword is "COPY" or "ADD");
        Assert.StartsWith("--from=build ", copy.Arguments, StringComparison.Ordinal);
        Assert.Equal("/out", Assert.Single(copy.Sources));
        var app = copy.Destination.TrimEnd('/');
        var entrypoint = Assert.Single(final, i => i.Keyword == "ENTRYPOINT").Arguments;
        Assert.Equal($"[\"dotnet\", \"{app}/Cartridges.Silo.dll\"]", entrypoint);
        Assert.Contains(final, i => i.Keyword == "RUN" && i.Arguments.Contains($"ln -s {app}/cartridges ", StringComparison.Ordinal));
        Assert.Contains(final, i => i.Keyword == "HEALTHCHECK");
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_RestoresFromProjectFilesOnly_BeforeCopyingSources(string name)
    {
        var file = Dockerfile.Load(name);
        var build = file.InStage(file.StageNamed("build")).ToList();
        var restoreAt = build.FindIndex(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet restore", StringComparison.Ordinal));
        Assert.True(restoreAt > 0, $"{name}: no `dotnet restore` step");
        var restore = build[restoreAt];
        Assert.Contains($"dotnet restore {Cli}", restore.Arguments, StringComparison.Ordinal);

        // Before the restore, only what restore reads, so a source edit leaves the restore layer cached.
        var restoreInputs = new[] { "global.json", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "build/", "NuGet.config", "nuget.config", "NuGet.Config" };
        var copiedFirst = build.Take(restoreAt).Where(i => i.Keyword is "COPY" or "ADD").SelectMany(i => i.Sources.Select(s => (Source: s, i.Destination))).ToList();
        Assert.All(copiedFirst, c => Assert.True(c.Source.EndsWith(".csproj", StringComparison.Ordinal) || restoreInputs.Contains(c.Source), $"{name}: {c.Source} is copied before the restore"));
        foreach (var input in restoreInputs.Where(f => File.Exists(Path.Combine(RepoFiles.Root, f)) || Directory.Exists(Path.Combine(RepoFiles.Root, f))))
            Assert.Contains(copiedFirst, c => c.Source == input);
        foreach (var project in ProjectGraph.Closure(Cli))
            Assert.Contains((project, Path.GetDirectoryName(project)!.Replace('\\', '/') + "/"), copiedFirst);

        var rest = build.Skip(restoreAt + 1).ToList();
        Assert.Contains(rest, i => i.Keyword == "COPY" && i.Arguments == ". .");
        var publish = Assert.Single(rest, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.Contains("--no-restore", publish.Words);
        // The restore must have resolved the packages the publish builds against (CPU or CUDA libtorch).
        static string[] Properties(DockerInstruction i) => [.. i.Words.Where(w => w.StartsWith("-p:", StringComparison.Ordinal)).Order()];
        Assert.Equal(Properties(restore), Properties(publish));
        Assert.Contains(name == "Dockerfile.cuda" ? "-p:TorchDevice=cuda" : "-p:TorchDevice=cpu", Properties(publish));
    }

    [Fact]
    public void Dockerfiles_PullQualifiedBaseImages_BuildAndRunOnUbuntu2404()
    {
        foreach (var name in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            var file = Dockerfile.Load(name);
            foreach (var image in file.BaseImages)
                Images.AssertQualified(image);
            // libLibTorchSharp is patched (or not) for the build stage's libstdc++; the runtime must have the same one.
            var build = file.Instructions.First(i => i.Keyword == "FROM").Words[0];
            var runtime = file.InStage(file.FinalStage).First().Words[0];
            Assert.EndsWith("-noble", build, StringComparison.Ordinal);
            Assert.True(runtime.EndsWith("-noble", StringComparison.Ordinal) || runtime.EndsWith("ubuntu24.04", StringComparison.Ordinal), $"{name}: runtime {runtime}");
        }
        var cuda = Dockerfile.Load("Dockerfile.cuda");
        Assert.EndsWith("ubuntu24.04", cuda.InStage(cuda.FinalStage).First().Words[0], StringComparison.Ordinal);
    }
}

/// <summary>Container image references.</summary>
internal static class Images
{
    /// <summary>Names its registry host and pins a tag other than `latest` (or a digest).</summary>
    public static void AssertQualified(string image)
    {
        var slash = image.IndexOf('/');
        Assert.True(slash > 0, $"{image}: no registry host");
        var host = image[..slash];
        Assert.True(host.Contains('.') || host.Contains(':') || host == "localhost", $"{image}: '{host}' is not a registry host");
        if (image.Contains('@'))
        {
            return;
        }
        var lastSegment = image[(image.LastIndexOf('/') + 1)..];
        var colon = lastSegment.IndexOf(':');
        Assert.True(colon > 0, $"{image}: no tag");
        Assert.NotEqual("latest", lastSegment[(colon + 1)..]);
    }
}
