using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunbookPilot.Domain.Adapters;
using RunbookPilot.Engine.Configuration;

namespace RunbookPilot.Engine.Hosting;

/// <summary>
/// A generic host running only the engine (<see cref="RunbookPilotServices.AddRunbookPilot"/>): what the CLI's embedded
/// mode, the load drivers and the engine tests start. The server adds the engine to its web host instead. Disposing
/// stops the host gracefully (last audit checkpoint, actor system, database lock).
/// </summary>
public sealed class RunbookPilotHost : IAsyncDisposable
{
    private readonly IHost _host;

    private RunbookPilotHost(IHost host)
    {
        _host = host;
        Engine = host.Services.GetRequiredService<RunbookPilotEngine>();
    }

    public RunbookPilotEngine Engine { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<RunbookPilotHost> StartAsync(RunbookPilotOptions options, IReadOnlyList<IAdapter> adapters, TimeProvider? time = null,
        string purpose = "runbookpilot", Action<ILoggingBuilder>? logging = null, CancellationToken ct = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Services.AddRunbookPilot(options, adapters, time, purpose);
        var host = builder.Build();
        try
        {
            await host.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            host.Dispose();
            throw;
        }
        return new RunbookPilotHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        _host.Dispose();
    }
}
