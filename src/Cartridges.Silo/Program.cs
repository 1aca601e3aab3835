// The silo host: one ASP.NET process = Orleans silo + dashboard (/dashboard) + health endpoints.
// Configuration: appsettings.json next to the binaries (wherever the process starts), then environment (e.g.
// Cartridges__Profile=Postgres, ConnectionStrings__Postgres=..., Orleans__Metadata__gpu=true,
// Cartridges__Models__default=/models/x). Relative paths in it (data directory, model folders) are taken from the
// working directory, as the CLI takes them.
using Cartridges.Silo.Hosting;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddCartridgesSilo();
var app = builder.Build();
app.MapCartridgesEndpoints();
try
{
    await SiloRunner.RunAsync(app);
    return 0;
}
catch (Exception e) when (e is not OperationCanceledException)
{
    // The preloader has logged the reason; the exit code tells supervisors the start failed.
    return 1;
}
