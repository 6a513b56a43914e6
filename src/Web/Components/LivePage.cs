using Microsoft.AspNetCore.Components;
using RunbookPilot.Web.Services;

namespace RunbookPilot.Web.Components;

/// <summary>
/// A page that reloads when the engine reports a change (an execution step, approval, binding decision or kill switch):
/// at most one reload runs at a time, and changes arriving meanwhile cause one more — so it follows within a second.
/// </summary>
public abstract class LivePage : ComponentBase, IDisposable
{
    private int _pending;

    [Inject] protected LiveFeed Feed { get; set; } = null!;
    [Inject] protected DashboardData Data { get; set; } = null!;
    [CascadingParameter] protected DashboardUser User { get; set; } = new("unknown", "", false);

    protected abstract Task LoadAsync();

    protected override async Task OnInitializedAsync()
    {
        Feed.Changed += OnChanged;
        await LoadAsync();
    }

    private void OnChanged()
    {
        if (Interlocked.Increment(ref _pending) > 1) return;
        _ = InvokeAsync(async () =>
        {
            do
            {
                Volatile.Write(ref _pending, 1);
                await LoadAsync();
                StateHasChanged();
            }
            while (Interlocked.Decrement(ref _pending) > 0);
        });
    }

    public void Dispose()
    {
        Feed.Changed -= OnChanged;
        GC.SuppressFinalize(this);
    }
}
