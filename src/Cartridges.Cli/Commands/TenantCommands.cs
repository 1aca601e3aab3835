// `cartridges tenant …`: API tenants and their keys (only a hash of each key is stored), in a data directory's
// tenants file (Local profile) or, with --connection, in the PostgreSQL database every silo of a cluster reads.
using System.CommandLine;
using Cartridges.Silo.Tenants;

namespace Cartridges.Cli.Commands;

/// <summary>The `tenant` command group.</summary>
internal static class TenantCommands
{
    public static Command Create()
    {
        var data = new Option<string>("--data")
        {
            Description = "The silo's data directory (Local profile: keys are kept in DIR/tenants.json)",
            DefaultValueFactory = _ => "cartridges-data",
        };
        var connection = new Option<string?>("--connection") { Description = "PostgreSQL connection string (Postgres profile; instead of --data)" };
        ITenantStore Store(ParseResult pr) => TenantAdmin.Store(pr.GetValue(data)!, pr.GetValue(connection));

        var name = new Argument<string>("tenant") { Description = "Tenant name (lowercase letters, digits, '-', '_')" };
        var add = new Command("add", "Create a tenant (or a further key for it) and print the new API key as the last line") { name, data, connection };
        add.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var tenant = pr.GetValue(name)!;
            var key = await Store(pr).AddAsync(tenant, cancellationToken: ct);
            Console.WriteLine($"tenant {tenant}: new API key (shown once; store it now)");
            Console.WriteLine(key);
            return 0;
        }));

        var list = new Command("list", "List tenants with their number of live keys") { data, connection };
        list.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var tenants = await Store(pr).ListAsync(ct);
            if (tenants.Count == 0) Console.WriteLine("no tenants");
            foreach (var t in tenants)
                Console.WriteLine($"{t.Name,-24} {t.Keys} key{(t.Keys == 1 ? "" : "s")}  created {t.CreatedAt:yyyy-MM-dd HH:mm}Z" + (t.Limits is null ? "" : "  (own limits)"));
            return 0;
        }));

        var revokedName = new Argument<string>("tenant") { Description = "Tenant whose keys to revoke" };
        var revoke = new Command("revoke", "Revoke every API key of a tenant (its cartridges stay; `tenant add` issues a new key)") { revokedName, data, connection };
        revoke.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var tenant = pr.GetValue(revokedName)!;
            try
            {
                var n = await Store(pr).RevokeAsync(tenant, ct);
                Console.WriteLine($"tenant {tenant}: {n} key{(n == 1 ? "" : "s")} revoked");
                return 0;
            }
            catch (KeyNotFoundException e)
            {
                throw new ArgumentException(e.Message, e);
            }
        }));

        var cmd = new Command("tenant", "API tenants and keys");
        cmd.Subcommands.Add(add);
        cmd.Subcommands.Add(list);
        cmd.Subcommands.Add(revoke);
        return cmd;
    }
}
