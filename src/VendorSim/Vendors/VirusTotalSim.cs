using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>VirusTotal v3 (<c>/virustotal/api/v3/{collection}/{id}</c>): <c>x-apikey</c>, IP address, domain and file reports.</summary>
internal static class VirusTotalSim
{
    public static void Map(WebApplication app, HandleRequest handle) =>
        app.Map("/virustotal/api/v3/{collection}/{id}", (HttpContext c, string collection, string id) => handle(c, "virustotal", () => VirusTotal(c, collection, id)));

    private static Task<IResult> VirusTotal(HttpContext c, string collection, string id)
    {
        var key = c.Request.Headers["x-apikey"].ToString();
        if (key.Length == 0) return Json(401, new JsonObject { ["error"] = new JsonObject { ["code"] = "AuthenticationRequiredError", ["message"] = "X-Apikey header is missing" } });
        if (key != Credentials["RBPILOT_SIM_VT_KEY"]) return Json(401, new JsonObject { ["error"] = new JsonObject { ["code"] = "WrongCredentialsError", ["message"] = $"Wrong API key {key}" } }); // some vendors echo what they got: adapters must redact it
        if (id.StartsWith("192.0.2.", StringComparison.Ordinal) || id.StartsWith("unknown", StringComparison.Ordinal))
            return Json(404, new JsonObject { ["error"] = new JsonObject { ["code"] = "NotFoundError", ["message"] = $"\"{id}\" not found" } });
        var bad = id.StartsWith("203.0.113.", StringComparison.Ordinal) || id.Contains("evil", StringComparison.OrdinalIgnoreCase);
        var stats = new JsonObject { ["harmless"] = bad ? 55 : 70, ["malicious"] = bad ? 7 : 0, ["suspicious"] = bad ? 2 : 0, ["undetected"] = 20, ["timeout"] = 0 };
        var type = collection switch { "domains" => "domain", "files" => "file", _ => "ip_address" };
        if (type == "file")
        {
            stats["confirmed-timeout"] = 0;
            stats["failure"] = 0;
            stats["type-unsupported"] = 4;
        }
        return Json(200, new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["id"] = id,
                ["type"] = type,
                ["links"] = new JsonObject { ["self"] = $"https://www.virustotal.com/api/v3/{collection}/{id}" },
                ["attributes"] = new JsonObject { ["last_analysis_stats"] = stats, ["reputation"] = bad ? -40 : 0, ["last_analysis_date"] = 1716200000 },
            },
        });
    }
}
