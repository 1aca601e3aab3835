using YamlDotNet.RepresentationModel;

namespace Cartridges.Deploy.Tests;

/// <summary>docker-compose.yml and the Dockerfiles have the parts a deployment needs.</summary>
public sealed class ComposeAndDockerfileTests
{
    static YamlMappingNode Compose()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(RepoFiles.Read("docker-compose.yml")));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node)[key];

    static string Value(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;

    [Fact]
    public void Compose_HasPostgresWithSchema_TwoGpuSilos_OneCpuGateway_HealthChecks_Volumes()
    {
        var root = Compose();
        var services = Map(root, "services");
        var postgres = services["postgres"];
        Assert.StartsWith("postgres:", Value(postgres, "image"));
        Assert.True(((YamlMappingNode)postgres).Children.ContainsKey("healthcheck"));
        var migrate = services["migrate"];
        Assert.Contains("migrate", ((YamlSequenceNode)((YamlMappingNode)migrate)["entrypoint"]).Children.Select(c => ((YamlScalarNode)c).Value));

        // YAML merge keys (<<) are resolved by the loader only when asked; read them the way compose does.
        foreach (var name in new[] { "silo-gpu-1", "silo-gpu-2" })
        {
            var silo = (YamlMappingNode)services[name];
            var devices = (YamlSequenceNode)Map(Map(Map(silo, "deploy"), "resources"), "reservations")["devices"];
            var device = (YamlMappingNode)devices.Children[0];
            Assert.Equal("nvidia", Value(device, "driver"));
            Assert.Contains("gpu", ((YamlSequenceNode)device["capabilities"]).Children.Select(c => ((YamlScalarNode)c).Value));
            Assert.Equal("true", Value(Map(silo, "environment"), "Orleans__Metadata__gpu"));
        }
        var gateway = (YamlMappingNode)services["gateway"];
        Assert.Equal("false", Value(Map(gateway, "environment"), "Orleans__Metadata__gpu"));
        Assert.False(gateway.Children.ContainsKey("deploy"));
        Assert.Contains("8080:8080", ((YamlSequenceNode)gateway["ports"]).Children.Select(c => ((YamlScalarNode)c).Value));

        var anchor = (YamlMappingNode)root["x-silo"];
        Assert.True(anchor.Children.ContainsKey("healthcheck"));
        var env = Map(anchor, "environment");
        Assert.Equal("Postgres", Value(env, "Cartridges__Profile"));
        Assert.Equal("/blobs", Value(env, "Cartridges__BlobDirectory"));
        Assert.Contains("blobs:/blobs", ((YamlSequenceNode)anchor["volumes"]).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.True(Map(root, "volumes").Children.ContainsKey("blobs"));
        Assert.True(Map(root, "volumes").Children.ContainsKey("pgdata"));
    }

    [Fact]
    public void Dockerfiles_BuildTheSiloAndCli_CudaOnUbuntu2404()
    {
        var cpu = RepoFiles.Read("deploy", "Dockerfile");
        Assert.Contains("dotnet publish src/Cartridges.Silo", cpu);
        Assert.Contains("dotnet publish src/Cartridges.Cli", cpu);
        Assert.Contains("HEALTHCHECK", cpu);
        var cuda = RepoFiles.Read("deploy", "Dockerfile.cuda");
        Assert.Contains("-p:TorchDevice=cuda", cuda);
        var runtimeBase = cuda.Split('\n').Last(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        Assert.Contains("ubuntu24.04", runtimeBase);
        Assert.Contains("ENTRYPOINT", cuda);
    }
}
