// `cartridges`: one executable for model tools, training, serving and benchmarks.
using System.CommandLine;
using Cartridges.Cli.Commands;

var root = new RootCommand("Cartridges.Cluster: train small KV caches (cartridges) for long documents and serve them.");
root.Subcommands.Add(ModelCommands.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(DbCommands.Create());
root.Subcommands.Add(TenantCommands.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
foreach (var command in RemoteCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(ProvingGroundCommands.Data());
foreach (var command in TrainingCommands.Create()) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
