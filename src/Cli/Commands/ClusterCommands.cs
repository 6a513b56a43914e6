using System.CommandLine;
using RunbookPilot.Engine.Hosting;

namespace RunbookPilot.Cli.Commands;

/// <summary><c>runbookpilot cluster certs --out DIR --nodes N</c>: the CA and node certificates for mutual TLS between nodes.</summary>
internal static class ClusterCommands
{
    public static Command Build()
    {
        var output = new Option<string>("--out") { Description = "Folder to write ca.crt, ca.key and node-1.pfx … node-N.pfx into", Required = true };
        var nodes = new Option<int>("--nodes") { Description = "How many node certificates", DefaultValueFactory = _ => 3 };
        var hosts = new Option<string[]>("--hostnames") { Description = "Host names for the nodes' certificates, in order (default runbookpilot-node-1 …)", AllowMultipleArgumentsPerToken = true };
        var certs = new Command("certs", """
            Make a private CA and one certificate per node for the cluster's mutual TLS. Give every node ca.crt and its own
            node-N.pfx (RBPILOT_TLS_CA, RBPILOT_TLS_CERT); keep ca.key offline (it signs new nodes). Files are readable by
            the current user only. A node whose certificate comes from another CA cannot join.

            Example:
              runbookpilot cluster certs --out ./certs --nodes 3
            """) { output, nodes, hosts };
        certs.SetAction(async (p, ct) =>
        {
            var count = p.GetValue(nodes);
            if (count is < 1 or > 100)
            {
                await p.InvocationConfiguration.Error.WriteLineAsync("error: --nodes must be between 1 and 100");
                return 1;
            }
            var folder = p.GetValue(output)!;
            if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any(f => Path.GetFileName(f) is "ca.crt" or "ca.key"))
            {
                await p.InvocationConfiguration.Error.WriteLineAsync($"error: {folder} already holds a CA; choose an empty folder (a new CA would not trust the old nodes)");
                return 1;
            }
            foreach (var file in NodeCertificates.CreateCluster(folder, count, p.GetValue(hosts)))
                await p.InvocationConfiguration.Output.WriteLineAsync("wrote " + file);
            return 0;
        });
        return new Command("cluster", "Cluster set-up.") { certs };
    }
}
