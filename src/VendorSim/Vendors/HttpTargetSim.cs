using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static RunbookPilot.VendorSim.VendorSimulator;

namespace RunbookPilot.VendorSim;

/// <summary>The target of the generic HTTP adapter (<c>/http/...</c>): any method, no credentials, answers with what it received.</summary>
internal static class HttpTargetSim
{
    public static void Map(WebApplication app, HandleRequest handle) =>
        app.Map("/http/{**path}", (RequestDelegate)(c => handle(c, "http", () => Json(200, new JsonObject { ["ok"] = true, ["received"] = c.Request.Method + " " + c.Request.Path }))));
}
