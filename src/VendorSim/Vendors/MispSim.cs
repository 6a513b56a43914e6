using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>MISP (<c>/misp/...</c>, API key in <c>Authorization</c>): attribute search and sightings.</summary>
internal sealed class MispSim
{
    private int _sightings;

    public static void Map(WebApplication app, HandleRequest handle)
    {
        var sim = new MispSim();
        app.Map("/misp/{**path}", (HttpContext c, string path) => handle(c, "misp", () => sim.Misp(c, path)));
    }

    private async Task<IResult> Misp(HttpContext c, string path)
    {
        if (c.Request.Headers.Authorization != Credentials["RBPILOT_SIM_MISP_KEY"])
        {
            const string text = "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.";
            return await Json(403, new JsonObject { ["name"] = text, ["message"] = text, ["url"] = "/" + path }).ConfigureAwait(false);
        }
        if (path == "servers/getVersion")
            return await Json(200, new JsonObject { ["version"] = "2.4.198", ["perm_sync"] = false }).ConfigureAwait(false);
        var body = JsonNode.Parse(await new StreamReader(c.Request.Body).ReadToEndAsync(c.RequestAborted).ConfigureAwait(false));
        var value = body?["value"]?.ToString() ?? "";
        if (path == "sightings/add")
        {
            var id = Interlocked.Increment(ref _sightings);
            return await Json(200, new JsonObject { ["Sighting"] = new JsonObject { ["id"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture), ["value"] = value, ["source"] = body?["source"]?.DeepClone(), ["type"] = "0" } }).ConfigureAwait(false);
        }
        var attributes = new JsonArray();
        if (value.StartsWith("203.0.113.", StringComparison.Ordinal) || value.Contains("evil", StringComparison.Ordinal))
            attributes.Add(new JsonObject
            {
                ["id"] = "12345", ["event_id"] = "678", ["category"] = "Network activity", ["type"] = "ip-dst", ["to_ids"] = true, ["value"] = value,
                ["Event"] = new JsonObject { ["id"] = "678", ["info"] = "Cobalt Strike C2 infrastructure" },
            });
        return await Json(200, new JsonObject { ["response"] = new JsonObject { ["Attribute"] = attributes } }).ConfigureAwait(false);
    }
}
