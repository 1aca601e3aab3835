// The silo host: one ASP.NET process = Orleans silo + dashboard (/dashboard) + health endpoints.
// Configuration: appsettings.json, then environment (e.g. Cartridges__Profile=Postgres,
// ConnectionStrings__Postgres=..., Orleans__Metadata__gpu=true, Cartridges__Models__default=/models/x).
using Cartridges.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddCartridgesSilo();
var app = builder.Build();
app.MapCartridgesEndpoints();
app.Run();
