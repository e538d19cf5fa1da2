using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace ZeroDL.Web;

/// <summary>
/// The Host header values the server accepts (ASP.NET Core host filtering), derived from the addresses it listens on, so
/// that a page on another domain that re-points its DNS name to this machine (DNS rebinding) is refused: the loopback
/// names (localhost, 127.0.0.1, [::1]) always; the host of every listening URL; for a wildcard address (0.0.0.0, [::],
/// * or +) also this machine's host name and the addresses of its network interfaces; and any extra names given
/// (zerodl serve --allowed-hosts). Ports are not compared: host filtering matches the host part only.
/// </summary>
public static class BoundHosts
{
    /// <summary>The names every server accepts.</summary>
    public static IReadOnlyList<string> Loopback => ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>The accepted hosts for the listening URLs <paramref name="urls"/> (separated by ';', as --urls takes them).</summary>
    public static IReadOnlyList<string> For(string? urls, IEnumerable<string>? extra = null)
    {
        var hosts = new List<string>(Loopback);
        foreach (var url in (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string host = Host(url);
            if (host is "*" or "+" or "0.0.0.0" or "[::]" or "") hosts.AddRange(Machine());
            else hosts.Add(host);
        }
        hosts.AddRange(extra ?? []);
        return [.. hosts.Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The host of a URL as Kestrel takes it ("http://[::1]:5000" → "[::1]", "http://*:80" → "*").</summary>
    public static string Host(string url)
    {
        int start = url.IndexOf("://", StringComparison.Ordinal);
        string rest = start < 0 ? url : url[(start + 3)..];
        int slash = rest.IndexOf('/');
        if (slash >= 0) rest = rest[..slash];
        if (rest.StartsWith('[')) return rest[..(rest.IndexOf(']') is int end and >= 0 ? end + 1 : rest.Length)].ToLowerInvariant();
        int colon = rest.LastIndexOf(':');
        return (colon >= 0 ? rest[..colon] : rest).ToLowerInvariant();
    }

    /// <summary>This machine's host name and its interfaces' unicast addresses (IPv6 in brackets, without link-local ones).</summary>
    private static IEnumerable<string> Machine()
    {
        var names = new List<string> { Dns.GetHostName() };
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                foreach (var a in nic.GetIPProperties().UnicastAddresses)
                {
                    var ip = a.Address;
                    if (ip.AddressFamily == AddressFamily.InterNetwork) names.Add(ip.ToString());
                    else if (ip.AddressFamily == AddressFamily.InterNetworkV6 && !ip.IsIPv6LinkLocal) names.Add($"[{ip}]");
                }
        }
        catch (NetworkInformationException) { } // no interface list: the host name and --allowed-hosts remain
        return names;
    }
}
