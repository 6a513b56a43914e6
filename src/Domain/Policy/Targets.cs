using System.Globalization;
using System.Net;
using System.Net.Sockets;

using RunbookPilot.Domain.Adapters;

namespace RunbookPilot.Domain.Policy;

/// <summary>A target in its one canonical spelling (what the allow-list compares and what the vendor receives), or why it is invalid.</summary>
public sealed record CanonicalTarget(TargetKind Kind, string Text, IPAddress? Address = null, IPNetwork? Network = null)
{
    /// <summary>For hosts: the first label (dc01 of dc01.corp.example). For users: the account without its domain.</summary>
    public string? ShortName { get; init; }
}

/// <summary>
/// Strict parsing of targets into one canonical form, before any comparison and before any vendor call. A spelling that
/// a firewall or an EDR could read differently from us is refused rather than guessed: IPv4 must be four decimal octets
/// without leading zeros (no octal-looking, hex, integer or shortened forms); an IPv4-mapped IPv6 address is that IPv4
/// address; IPv6 is written compressed and lower case, without a zone; networks are written from their base address.
/// Hosts, users, domains and e-mail addresses compare case-insensitively after normalising <c>DOMAIN\user</c>,
/// <c>user@domain</c> and FQDN versus short host names; hosts, users and e-mail addresses are sent as written.
/// </summary>
public static class Targets
{
    public static bool TryParse(TargetKind kind, string raw, out CanonicalTarget target, out string error)
    {
        target = null!;
        error = "";
        var value = raw.Trim();
        if (value.Length == 0 || value.Length > 256 || value.Any(char.IsControl) || value.Any(char.IsWhiteSpace))
        {
            error = $"'{Printable(raw)}' is not a valid {Name(kind)} (empty, too long, or containing spaces or control characters)";
            return false;
        }
        switch (kind)
        {
            case TargetKind.Ip:
                if (ParseAddress(value) is not { } ip)
                {
                    error = $"'{value}' is not an IP address in a standard spelling (IPv4 as four decimal octets without leading zeros, or IPv6)";
                    return false;
                }
                target = new CanonicalTarget(kind, ip.ToString(), Address: ip);
                return true;
            case TargetKind.Cidr:
                if (!value.Contains('/', StringComparison.Ordinal)) goto case TargetKind.Ip;
                if (ParseNetwork(value, out var network, out error) is false) return false;
                target = new CanonicalTarget(kind, network.ToString(), Network: network);
                return true;
            case TargetKind.Host:
                if (ParseAddress(value) is { } hostIp)
                {
                    target = new CanonicalTarget(kind, hostIp.ToString(), Address: hostIp) { ShortName = hostIp.ToString() };
                    return true;
                }
                var host = value.TrimEnd('.');
                if (host.Length == 0 || host.Length > 253 || !host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || host.Contains("..", StringComparison.Ordinal)
                    || host.StartsWith('.') || host.StartsWith('-') || ReadsAsAddress(host))
                {
                    error = $"'{value}' is not a host name (letters, digits, '-', '_' and dots; not a number a resolver could read as an address)";
                    return false;
                }
                // Sent as written (an EDR may match host names case-sensitively); compared case-insensitively.
                target = new CanonicalTarget(kind, host) { ShortName = host.Split('.')[0].ToLowerInvariant() };
                return true;
            case TargetKind.User:
                var account = UserPart(value);
                if (account.Length == 0 || account.Any(c => c is '/' or '\\' or '@' or ':' or '"'))
                {
                    error = $"'{value}' is not a user name (user, DOMAIN\\user or user@domain)";
                    return false;
                }
                target = new CanonicalTarget(kind, value) { ShortName = account };
                return true;
            case TargetKind.Email:
                var at = value.LastIndexOf('@');
                if (at <= 0 || at == value.Length - 1 || value.Count(c => c == '@') != 1 || !TryParse(TargetKind.Domain, value[(at + 1)..], out _, out _))
                {
                    error = $"'{value}' is not an e-mail address";
                    return false;
                }
                target = new CanonicalTarget(kind, value) { ShortName = value[..at].ToLowerInvariant() };
                return true;
            case TargetKind.Domain:
                var domain = value.TrimEnd('.').ToLowerInvariant();
                if (domain.Length == 0 || domain.Length > 253 || !domain.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || domain.Contains("..", StringComparison.Ordinal)
                    || domain.StartsWith('.') || domain.StartsWith('-') || ReadsAsAddress(domain))
                {
                    error = $"'{value}' is not a domain name";
                    return false;
                }
                target = new CanonicalTarget(kind, domain);
                return true;
            case TargetKind.Hash:
                if (value.Length is not (32 or 40 or 64) || !value.All(char.IsAsciiHexDigit))
                {
                    error = $"'{value}' is not an MD5, SHA-1 or SHA-256 hash (32, 40 or 64 hexadecimal digits)";
                    return false;
                }
                target = new CanonicalTarget(kind, value.ToLowerInvariant());
                return true;
            default: // DeviceId: opaque to us, resolved through the EDR; only its spelling is checked
                if (!value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
                {
                    error = $"'{value}' is not a device id";
                    return false;
                }
                target = new CanonicalTarget(kind, value);
                return true;
        }
    }

    /// <summary>
    /// An IP address in a standard spelling, or null. IPv4: exactly four decimal octets 0–255 without leading zeros.
    /// IPv6: any standard form (an embedded IPv4 part follows the IPv4 rule), no zone id; IPv4-mapped becomes IPv4.
    /// </summary>
    public static IPAddress? ParseAddress(string value)
    {
        if (value.Contains(':', StringComparison.Ordinal))
        {
            if (value.Contains('%', StringComparison.Ordinal) || value.Contains('[', StringComparison.Ordinal)) return null;
            var lastColon = value.LastIndexOf(':');
            var tail = value[(lastColon + 1)..];
            if (tail.Contains('.', StringComparison.Ordinal) && StrictIPv4(tail) is null) return null;
            if (!IPAddress.TryParse(value, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6) return null;
            return v6.IsIPv4MappedToIPv6 ? v6.MapToIPv4() : v6;
        }
        return StrictIPv4(value);
    }

    private static IPAddress? StrictIPv4(string value)
    {
        var parts = value.Split('.');
        if (parts.Length != 4) return null;
        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var p = parts[i];
            if (p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || (p.Length > 1 && p[0] == '0')) return null;
            var n = int.Parse(p, CultureInfo.InvariantCulture);
            if (n > 255) return null;
            bytes[i] = (byte)n;
        }
        return new IPAddress(bytes);
    }

    /// <summary>A network <c>address/prefix</c>: strict address, decimal prefix in range, host bits clear; mapped IPv6 becomes IPv4.</summary>
    public static bool ParseNetwork(string value, out IPNetwork network, out string error)
    {
        network = default;
        error = $"'{value}' is not a network such as 10.0.0.0/24 (strict address, decimal prefix, no host bits set)";
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || ParseAddress(value[..slash]) is not { } address) return false;
        var prefixText = value[(slash + 1)..];
        if (prefixText.Length is 0 or > 3 || !prefixText.All(char.IsAsciiDigit) || (prefixText.Length > 1 && prefixText[0] == '0')) return false;
        var prefix = int.Parse(prefixText, CultureInfo.InvariantCulture);
        var mapped = value[..slash].Contains(':', StringComparison.Ordinal) && address.AddressFamily == AddressFamily.InterNetwork;
        if (mapped) prefix -= 96; // ::ffff:10.0.0.0/120 is 10.0.0.0/24
        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (prefix < 0 || prefix > bits) return false;
        var bytes = address.GetAddressBytes();
        for (var bit = prefix; bit < bits; bit++)
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0) return false; // host bits set: 10.0.0.1/24 could mean either
        network = new IPNetwork(address, prefix);
        return true;
    }

    /// <summary>
    /// A name that the system resolver would read as an IPv4 address (inet_aton: <c>167772161</c>, <c>10.1</c>,
    /// <c>0x0a000001</c>, <c>012.0.0.1</c>): its last label is a number (no top-level domain is), or a label is hex.
    /// </summary>
    private static bool ReadsAsAddress(string name)
    {
        var labels = name.Split('.');
        static bool Hex(string l) => l.Length > 2 && l.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && l[2..].All(char.IsAsciiHexDigit);
        return labels[^1].All(char.IsAsciiDigit) || labels.Any(Hex);
    }

    /// <summary>Whether two networks share any address.</summary>
    public static bool Overlap(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && (a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress));

    /// <summary>The account name of <c>DOMAIN\user</c>, <c>user@domain</c> or <c>user</c>, lower case.</summary>
    public static string UserPart(string value)
    {
        var v = value.Trim();
        var backslash = v.LastIndexOf('\\');
        if (backslash >= 0) v = v[(backslash + 1)..];
        var at = v.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0) v = v[..at];
        return v.ToLowerInvariant();
    }

    public static string Name(TargetKind kind) => kind switch
    {
        TargetKind.Ip => "IP address",
        TargetKind.Cidr => "IP address or network",
        TargetKind.Host => "host name",
        TargetKind.DeviceId => "device id",
        TargetKind.User => "user name",
        TargetKind.Domain => "domain",
        TargetKind.Email => "e-mail address",
        _ => "hash",
    };

    private static string Printable(string s) => new(s.Select(c => char.IsControl(c) ? '?' : c).Take(80).ToArray());
}
