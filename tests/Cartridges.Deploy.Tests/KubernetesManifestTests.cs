using System.Diagnostics;
using k8s;
using k8s.Models;

namespace Cartridges.Deploy.Tests;

/// <summary>The k8s/ manifests load as typed Kubernetes objects and render with kustomize.</summary>
public sealed class KubernetesManifestTests
{
    static List<object> LoadAll() =>
        Directory.GetFiles(Path.Combine(RepoFiles.Root, "k8s"), "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(f)))
            .ToList();

    [Fact]
    public void Manifests_HaveNamespacePostgresSiloRbacServicesAndPdb()
    {
        var objects = LoadAll();
        Assert.Single(objects.OfType<V1Namespace>());
        var postgres = Assert.Single(objects.OfType<V1StatefulSet>());
        Assert.Equal("postgres:15", postgres.Spec.Template.Spec.Containers[0].Image);
        Assert.NotEmpty(postgres.Spec.VolumeClaimTemplates);
        Assert.Contains(objects.OfType<V1Secret>(), s => s.Metadata.Name == "cartridges-postgres" && s.StringData.ContainsKey("connection-string"));

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
        Assert.Equal("cartridges-postgres", env["ConnectionStrings__Postgres"].ValueFrom.SecretKeyRef.Name);
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
    public async Task Kustomize_RendersEveryResourceIntoTheNamespace()
    {
        var psi = new ProcessStartInfo("kubectl", ["kustomize", Path.Combine(RepoFiles.Root, "k8s")]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, error);
        var rendered = KubernetesYaml.LoadAllFromString(output);
        Assert.Equal(LoadAll().Count, rendered.Count);
        Assert.All(rendered.OfType<IKubernetesObject<V1ObjectMeta>>().Where(o => o is not V1Namespace),
            o => Assert.Equal("cartridges", o.Metadata.NamespaceProperty));
    }
}
