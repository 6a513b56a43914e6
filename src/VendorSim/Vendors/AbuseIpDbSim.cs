using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>AbuseIPDB v2 (<c>/abuseipdb/api/v2/check</c>, <c>Key</c> header): the confidence score of an IP address.</summary>
internal static class AbuseIpDbSim
{
    public static void Map(WebApplication app, HandleRequest handle) =>
        app.Map("/abuseipdb/api/v2/check", (RequestDelegate)(c => handle(c, "abuseipdb", () => AbuseIpDb(c))));

    private static Task<IResult> AbuseIpDb(HttpContext c)
    {
        if (c.Request.Headers["Key"] != Credentials["RBPILOT_SIM_ABUSEIPDB_KEY"])
            return Json(401, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["detail"] = "Authentication failed. Your API key is either missing, incorrect, or revoked.", ["status"] = 401 }) });
        var ip = c.Request.Query["ipAddress"].ToString();
        if (!IPAddress.TryParse(ip, out _))
            return Json(422, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["detail"] = "The ip address must be a valid IPv4 or IPv6 address.", ["status"] = 422, ["source"] = new JsonObject { ["parameter"] = "ipAddress" } }) });
        var bad = ip.StartsWith("203.0.113.", StringComparison.Ordinal);
        c.Response.Headers["X-RateLimit-Limit"] = "1000";
        c.Response.Headers["X-RateLimit-Remaining"] = "999";
        return Json(200, new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["ipAddress"] = ip, ["isPublic"] = true, ["ipVersion"] = 4, ["isWhitelisted"] = false, ["abuseConfidenceScore"] = bad ? 100 : 0,
                ["countryCode"] = "NL", ["usageType"] = "Data Center/Web Hosting/Transit", ["isTor"] = false, ["totalReports"] = bad ? 1523 : 0,
                ["numDistinctUsers"] = bad ? 311 : 0, ["lastReportedAt"] = bad ? "2026-02-10T09:14:02+00:00" : null,
            },
        });
    }
}
