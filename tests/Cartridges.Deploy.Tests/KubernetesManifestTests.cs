using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Cartridges.Deploy.Tests;

/// <summary>The k8s/ manifests load as typed Kubernetes objects, are locked down, and render with kustomize.</summary>
public sealed class KubernetesManifestTests
{
    static string K8s => Path.Combine(RepoFiles.Root, "k8s");

    static List<object> LoadAll() =>
        Directory.GetFiles(K8s, "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(f)))
            .ToList();

    static YamlMappingNode Kustomization()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(K8s, "kustomization.yaml"))));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    static IEnumerable<YamlMappingNode> Entries(YamlMappingNode root, string key) =>
        root.Children.TryGetValue(key, out var list) ? ((YamlSequenceNode)list).Children.Cast<YamlMappingNode>() : [];

    static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) ? ((YamlScalarNode)value).Value : null;

    static IEnumerable<V1PodTemplateSpec> PodTemplates(IEnumerable<object> objects) =>
        objects.OfType<V1Deployment>().Select(d => d.Spec.Template).Concat(objects.OfType<V1StatefulSet>().Select(s => s.Spec.Template));

    static IEnumerable<V1Container> AllContainers(V1PodSpec pod) => pod.Containers.Concat(pod.InitContainers ?? []);

    [Fact]
    public void Manifests_HaveNamespacePostgresSiloRbacServicesAndPdb()
    {
        var objects = LoadAll();
        Assert.Single(objects.OfType<V1Namespace>());
        var postgres = Assert.Single(objects.OfType<V1StatefulSet>());
        Assert.Equal("docker.io/library/postgres:15", postgres.Spec.Template.Spec.Containers[0].Image);
        Assert.NotEmpty(postgres.Spec.VolumeClaimTemplates);

        var silo = Assert.Single(objects.OfType<V1Deployment>());
        var pod = silo.Spec.Template;
        Assert.Equal("cartridges", pod.Metadata.Labels["orleans/serviceId"]);
        Assert.Equal("cartridges", pod.Metadata.Labels["orleans/clusterId"]);
        var container = Assert.Single(pod.Spec.Containers);
        Assert.Equal("1", container.Resources.Requests["nvidia.com/gpu"].ToString());
        Assert.Equal("1", container.Resources.Limits["nvidia.com/gpu"].ToString());
        var env = container.Env.ToDictionary(e => e.Name);
        foreach (var name in new[] { "POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID" })
            Assert.NotNull(env[name].ValueFrom?.FieldRef);
        Assert.Equal("Postgres", env["Cartridges__Profile"].Value);
        Assert.Equal("true", env["Orleans__Metadata__gpu"].Value);
        Assert.Equal("/health/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Contains(pod.Spec.InitContainers, c => c.Command.SequenceEqual(["cartridges", "db", "migrate"]));

        // Orleans Kubernetes hosting must list and watch pods with the silo's service account.
        Assert.Equal("cartridges-silo", pod.Spec.ServiceAccountName);
        var role = Assert.Single(objects.OfType<V1Role>());
        Assert.Contains(role.Rules, r => r.Resources.Contains("pods") && r.Verbs.Contains("list") && r.Verbs.Contains("watch"));
        var binding = Assert.Single(objects.OfType<V1RoleBinding>());
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        Assert.Contains(binding.Subjects, s => s.Kind == "ServiceAccount" && s.Name == pod.Spec.ServiceAccountName);

        var services = objects.OfType<V1Service>().ToDictionary(s => s.Metadata.Name);
        Assert.Equal("cartridges-silo", services["cartridges-http"].Spec.Selector["app"]);
        Assert.Equal("cartridges-silo", services["cartridges-dashboard"].Spec.Selector["app"]);
        var pdb = Assert.Single(objects.OfType<V1PodDisruptionBudget>());
        Assert.Equal("cartridges-silo", pdb.Spec.Selector.MatchLabels["app"]);
    }

    [Fact]
    public void Pods_RunAsNonRoot_WithoutPrivileges_OnAReadOnlyRootFilesystem()
    {
        var objects = LoadAll();
        var ns = Assert.Single(objects.OfType<V1Namespace>());
        Assert.Equal("restricted", ns.Metadata.Labels["pod-security.kubernetes.io/enforce"]);

        // The silo runs the images' own user (both images must agree); PostgreSQL its image's postgres account.
        var imageUser = ComposeAndDockerfileTests.ImageUser("Dockerfile");
        Assert.Equal(imageUser, ComposeAndDockerfileTests.ImageUser("Dockerfile.cuda"));
        var expected = new Dictionary<string, (long Uid, long Gid)>
        {
            ["cartridges-silo"] = imageUser,
            ["postgres"] = (999, 999),
        };
        var templates = PodTemplates(objects).ToList();
        Assert.Equal(expected.Count, templates.Count);
        foreach (var template in templates)
        {
            var app = template.Metadata.Labels["app"];
            var (uid, gid) = expected[app];
            var pod = template.Spec;
            var context = pod.SecurityContext;
            Assert.NotNull(context);
            Assert.True(context.RunAsNonRoot, $"{app}: runAsNonRoot");
            Assert.Equal(uid, context.RunAsUser);
            Assert.Equal(gid, context.RunAsGroup);
            Assert.Equal(gid, context.FsGroup);
            Assert.Equal("RuntimeDefault", context.SeccompProfile?.Type);
            foreach (var container in AllContainers(pod))
            {
                var where = $"{app}/{container.Name}";
                var sc = container.SecurityContext;
                Assert.NotNull(sc);
                Assert.True(sc.AllowPrivilegeEscalation == false, $"{where}: allowPrivilegeEscalation");
                Assert.True(sc.Privileged != true, $"{where}: privileged");
                Assert.Contains("ALL", sc.Capabilities?.Drop ?? []);
                Assert.Empty(sc.Capabilities?.Add ?? []);
                Assert.True(sc.ReadOnlyRootFilesystem == true, $"{where}: readOnlyRootFilesystem");
                Assert.True(sc.RunAsUser is null || sc.RunAsUser == uid, $"{where}: runAsUser overridden");
                // .NET and PostgreSQL both need a writable /tmp on a read-only root.
                var tmp = Assert.Single(container.VolumeMounts, m => m.MountPath == "/tmp");
                Assert.NotNull(Assert.Single(pod.Volumes, v => v.Name == tmp.Name).EmptyDir);
            }
        }

        // Every path the silo writes to is a writable volume, the image's data directory included.
        var silo = Assert.Single(objects.OfType<V1Deployment>()).Spec.Template.Spec;
        var container0 = Assert.Single(silo.Containers);
        var dataDirectory = System.Text.RegularExpressions.Regex.Match(RepoFiles.Read("deploy", "Dockerfile.cuda"), @"Cartridges__DataDirectory=(\S+)").Groups[1].Value;
        var blobDirectory = container0.Env.Single(e => e.Name == "Cartridges__BlobDirectory").Value;
        foreach (var path in new[] { dataDirectory, blobDirectory })
        {
            var mount = Assert.Single(container0.VolumeMounts, m => m.MountPath == path);
            Assert.True(mount.ReadOnlyProperty != true, $"{path} is mounted read-only");
        }
        var postgresPod = Assert.Single(objects.OfType<V1StatefulSet>()).Spec.Template.Spec;
        Assert.False(postgresPod.AutomountServiceAccountToken ?? true);
        Assert.Contains(Assert.Single(postgresPod.Containers).VolumeMounts, m => m.MountPath == "/var/run/postgresql");
    }

    [Fact]
    public void Images_AreFullyQualified_WithAnExplicitTag()
    {
        // Resolve the manifests' image names the way kustomize's `images:` rewrites them.
        var rewrites = Entries(Kustomization(), "images").ToDictionary(e => Scalar(e, "name")!);
        var images = PodTemplates(LoadAll()).SelectMany(t => AllContainers(t.Spec)).Select(c => c.Image).Distinct().ToList();
        Assert.Contains("cartridges:cuda", images);
        foreach (var image in images)
        {
            var colon = image.LastIndexOf(':');
            var (name, tag) = colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, null);
            if (rewrites.TryGetValue(name, out var rewrite))
            {
                Assert.DoesNotContain("OWNER", Scalar(rewrite, "newName") ?? "", StringComparison.Ordinal);
                name = Scalar(rewrite, "newName") ?? name;
                tag = Scalar(rewrite, "newTag") ?? tag;
            }
            Images.AssertQualified(tag is null ? name : $"{name}:{tag}");
        }
    }

    [Fact]
    public void Secrets_HaveNoValuesInTheRepository()
    {
        // No Secret objects with data: the values come from operator files via kustomize's secretGenerator.
        Assert.Empty(LoadAll().OfType<V1Secret>());
        foreach (var file in Directory.GetFiles(K8s, "*.yaml"))
            Assert.DoesNotContain("change-me", File.ReadAllText(file), StringComparison.OrdinalIgnoreCase);

        var generators = Entries(Kustomization(), "secretGenerator").ToList();
        Assert.Equal(["cartridges-admin", "cartridges-postgres"], generators.Select(g => Scalar(g, "name")).Order());
        foreach (var generator in generators)
        {
            Assert.False(generator.Children.ContainsKey("literals"), $"{Scalar(generator, "name")}: literal values");
            var sources = new[] { "envs", "files" }.SelectMany(k => Entries2(generator, k)).ToList();
            Assert.NotEmpty(sources);
            Assert.All(sources, s => Assert.StartsWith("secrets/", s, StringComparison.Ordinal));
        }
        // secrets/ is git-ignored except for its .gitignore, so the values cannot be committed by accident.
        var gitignore = File.ReadAllLines(Path.Combine(K8s, "secrets", ".gitignore")).Where(l => l.Length > 0 && !l.StartsWith('#'));
        Assert.Equal(["*", "!.gitignore"], gitignore);

        static IEnumerable<string> Entries2(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(key, out var list) ? ((YamlSequenceNode)list).Children.Select(c => ((YamlScalarNode)c).Value!) : [];
    }

    [Fact]
    public void PodsReadThePostgresPasswordFromTheSecret_AndBuildTheConnectionStringFromIt()
    {
        var objects = LoadAll();
        var siloPod = Assert.Single(objects.OfType<V1Deployment>()).Spec.Template.Spec;
        foreach (var container in AllContainers(siloPod))
        {
            var env = container.Env.ToList();
            var password = env.FindIndex(e => e.Name == "POSTGRES_PASSWORD");
            var connection = env.FindIndex(e => e.Name == "ConnectionStrings__Postgres");
            Assert.True(password >= 0 && connection > password, $"{container.Name}: POSTGRES_PASSWORD must precede the connection string that expands it");
            Assert.Equal("cartridges-postgres", env[password].ValueFrom.SecretKeyRef.Name);
            Assert.Equal("POSTGRES_PASSWORD", env[password].ValueFrom.SecretKeyRef.Key);
            Assert.EndsWith(";Password=$(POSTGRES_PASSWORD)", env[connection].Value, StringComparison.Ordinal);
        }
        var admin = Assert.Single(siloPod.Containers).Env.Single(e => e.Name == "Cartridges__Dashboard__AdminKey");
        Assert.Equal("cartridges-admin", admin.ValueFrom.SecretKeyRef.Name);
        var postgres = Assert.Single(Assert.Single(objects.OfType<V1StatefulSet>()).Spec.Template.Spec.Containers).Env.Single(e => e.Name == "POSTGRES_PASSWORD");
        Assert.Equal("cartridges-postgres", postgres.ValueFrom.SecretKeyRef.Name);
    }

    /// <summary>Copies k8s/ (without any operator secret files) to a temporary folder.</summary>
    static DirectoryInfo CopyManifests()
    {
        var copy = Directory.CreateTempSubdirectory("cartridges-k8s-");
        foreach (var file in Directory.GetFiles(K8s, "*.yaml"))
            File.Copy(file, Path.Combine(copy.FullName, Path.GetFileName(file)));
        Directory.CreateDirectory(Path.Combine(copy.FullName, "secrets"));
        return copy;
    }

    static async Task<(int ExitCode, string Output, string Error)> KustomizeAsync(string directory)
    {
        var psi = new ProcessStartInfo("kubectl", ["kustomize", directory]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task Kustomize_RefusesToRenderWithoutTheOperatorsSecretFiles()
    {
        var copy = CopyManifests();
        try
        {
            var (exitCode, _, error) = await KustomizeAsync(copy.FullName);
            Assert.NotEqual(0, exitCode);
            Assert.Contains("secrets/", error, StringComparison.Ordinal);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Kustomize_RendersEveryResourceIntoTheNamespace_WithGeneratedSecretsAndQualifiedImages()
    {
        var copy = CopyManifests();
        var password = RandomNumberGenerator.GetHexString(32, lowercase: true);
        var adminKey = RandomNumberGenerator.GetHexString(32, lowercase: true);
        try
        {
            // The files deploy/README.md tells operators to write.
            File.WriteAllText(Path.Combine(copy.FullName, "secrets", "postgres.env"), $"POSTGRES_PASSWORD={password}\n");
            File.WriteAllText(Path.Combine(copy.FullName, "secrets", "admin.env"), $"admin-key={adminKey}\n");
            var (exitCode, output, error) = await KustomizeAsync(copy.FullName);
            Assert.True(exitCode == 0, error);

            var rendered = KubernetesYaml.LoadAllFromString(output);
            var secrets = rendered.OfType<V1Secret>().ToDictionary(s => s.Metadata.Name);
            Assert.Equal(LoadAll().Count + secrets.Count, rendered.Count);
            Assert.All(rendered.OfType<IKubernetesObject<V1ObjectMeta>>().Where(o => o is not V1Namespace),
                o => Assert.Equal("cartridges", o.Metadata.NamespaceProperty));

            // Generated names carry a hash of the values, and kustomize points the pods at them.
            var postgresSecret = Assert.Single(secrets.Values, s => s.Metadata.Name.StartsWith("cartridges-postgres-", StringComparison.Ordinal));
            var adminSecret = Assert.Single(secrets.Values, s => s.Metadata.Name.StartsWith("cartridges-admin-", StringComparison.Ordinal));
            Assert.Equal(password, Encoding.UTF8.GetString(postgresSecret.Data["POSTGRES_PASSWORD"]));
            Assert.Equal(adminKey, Encoding.UTF8.GetString(adminSecret.Data["admin-key"]));
            var containers = PodTemplates(rendered).SelectMany(t => AllContainers(t.Spec)).ToList();
            var references = containers.SelectMany(c => c.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>()
                .Select(r => (r.Name, Key: (string?)r.Key))
                .Concat(containers.SelectMany(c => c.EnvFrom ?? []).Select(e => e.SecretRef).OfType<V1SecretEnvSource>().Select(r => (r.Name, Key: (string?)null)))
                .ToList();
            Assert.NotEmpty(references);
            foreach (var (name, key) in references)
            {
                Assert.True(secrets.TryGetValue(name, out var secret), $"{name} is not rendered");
                if (key is not null)
                    Assert.True(secret.Data.ContainsKey(key), $"{name} has no key {key}");
            }

            Assert.All(containers, c => Images.AssertQualified(c.Image));
            Assert.Contains(containers, c => c.Image.StartsWith("registry.example.com/cartridges/silo:", StringComparison.Ordinal));
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }
}
