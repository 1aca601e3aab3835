// One place that asks the OS for a free loopback port: local PostgreSQL servers, embedded silos (silo, gateway and
// HTTP ports) and tests all need one, and Storage is the lowest layer they share.
using System.Net;
using System.Net.Sockets;

namespace Cartridges.Storage.Networking;

/// <summary>Free TCP ports on the loopback interface.</summary>
public static class LoopbackPort
{
    /// <summary>A port that is free right now (it may be taken by the time the caller binds it; callers retry or fail clearly).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
