// `cartridges tenant …`: API tenants and their keys (only a hash of each key is stored).
using System.CommandLine;
using Cartridges.Silo.Tenants;

namespace Cartridges.Cli.Commands;

/// <summary>The `tenant` command group.</summary>
internal static class TenantCommands
{
    public static Command Create()
    {
        var name = new Argument<string>("tenant") { Description = "Tenant name (lowercase letters, digits, '-', '_')" };
        var data = new Option<string>("--data")
        {
            Description = "The silo's data directory (Local profile: keys are kept in DIR/tenants.json)",
            DefaultValueFactory = _ => "cartridges-data",
        };
        var add = new Command("add", "Create a tenant (or a further key for it) and print the new API key as the last line") { name, data };
        add.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var tenant = pr.GetValue(name)!;
            var key = await TenantAdmin.AddAsync(pr.GetValue(data)!, tenant, cancellationToken: ct);
            Console.WriteLine($"tenant {tenant}: new API key (shown once; store it now)");
            Console.WriteLine(key);
            return 0;
        }));
        var cmd = new Command("tenant", "API tenants and keys");
        cmd.Subcommands.Add(add);
        return cmd;
    }
}
