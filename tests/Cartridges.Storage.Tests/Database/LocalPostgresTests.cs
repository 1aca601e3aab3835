// LocalPostgres on its own (CI hands the other tests a server, so this is where starting one is exercised).
using System.Net.Sockets;
using Cartridges.Storage.Database;
using Cartridges.Storage.Tests.Support;

namespace Cartridges.Storage.Tests.Database;

public sealed class LocalPostgresTests
{
    [Fact]
    public async Task StartCreateDatabaseDispose_LeavesNothingBehind()
    {
        var server = await LocalPostgres.StartAsync();
        string directory;
        int port;
        await using (server)
        {
            directory = server.Directory;
            port = server.Port;
            var cs = await server.CreateDatabaseAsync("local_pg_test");

            Assert.Equal(42, await Sql.ScalarAsync<int>(cs, "SELECT 42"));
            Assert.Equal("local_pg_test", await Sql.ScalarAsync<string>(cs, "SELECT current_database()"));
        }

        Assert.False(Directory.Exists(directory));
        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", port));
    }
}
