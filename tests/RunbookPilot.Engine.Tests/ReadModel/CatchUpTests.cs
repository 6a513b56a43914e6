using RunbookPilot.Engine.Configuration;
using RunbookPilot.Engine.Tests.Execution;

namespace RunbookPilot.Engine.Tests.ReadModel;

/// <summary>Queries catch up through the projector singleton; one that cannot catch up in time fails rather than answer from stale tables.</summary>
public sealed class CatchUpTests
{
    [Fact]
    public async Task A_catch_up_that_cannot_finish_in_its_budget_fails_and_a_later_one_sees_everything()
    {
        await using var f = new EngineFixture();
        f.Options = f.Options with { ReadModel = new ReadModelOptions(FollowJournal: false) }; // nothing projects unless asked
        await f.StartAsync();
        var accepted = await f.SubmitAsync("""{"event":{"id":"stale-1"},"source":{"ip":"203.0.113.9"}}""");
        Assert.Null(f.Engine.Queries.Event(accepted.AlertId)); // journaled, not projected yet

        await Assert.ThrowsAsync<TimeoutException>(() => f.Engine.Read.CatchUpAsync(TimeSpan.Zero));

        Assert.NotNull(await f.Engine.Read.StoredAlertAsync(accepted.AlertId)); // a query catches up on its own
        Assert.Single(await f.Engine.Read.EventsAsync());
    }
}
