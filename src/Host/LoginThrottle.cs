using System.Collections.Concurrent;

namespace RunbookPilot.Host;

/// <summary>
/// Failed basic-auth sign-ins, counted per user name and per source address within <see cref="ServerOptions.LockoutWindow"/>.
/// After <see cref="ServerOptions.SlowAfterFailures"/> failures each further failure is answered more slowly (0.25 s,
/// doubling, at most 4 s); after <see cref="ServerOptions.LockAfterFailures"/> every attempt for that user or from that
/// address is answered 429 with Retry-After until the window has passed since the last failure — the right password
/// included, so guessing gains nothing. A successful sign-in is never slowed and clears its user's count.
/// </summary>
public sealed class LoginThrottle(ServerOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (int Count, DateTimeOffset First, DateTimeOffset Last)> _failures = new(StringComparer.Ordinal);

    /// <summary>How long sign-ins for this user or from this address are refused, or null when they are not.</summary>
    public TimeSpan? Locked(string user, string address)
    {
        var now = time.GetUtcNow();
        TimeSpan? longest = null;
        foreach (var key in Keys(user, address))
            if (Current(key, now) is { Count: var count, Last: var last } && count >= options.LockAfterFailures)
            {
                var left = last + options.LockoutWindow - now;
                if (left > TimeSpan.Zero && (longest is null || left > longest)) longest = left;
            }
        return longest;
    }

    /// <summary>Records a failure and returns how long to hold the answer.</summary>
    public TimeSpan Failed(string user, string address)
    {
        var now = time.GetUtcNow();
        var worst = 0;
        foreach (var key in Keys(user, address))
        {
            var updated = _failures.AddOrUpdate(key, _ => (1, now, now),
                (_, f) => now - f.First > options.LockoutWindow && now - f.Last > options.LockoutWindow ? (1, now, now) : (f.Count + 1, f.First, now));
            worst = Math.Max(worst, updated.Count);
        }
        var over = worst - options.SlowAfterFailures;
        return over <= 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Min(4000, 250 * (1 << Math.Min(over - 1, 5))));
    }

    public void Succeeded(string user) => _failures.TryRemove("user:" + user, out _);

    private (int Count, DateTimeOffset First, DateTimeOffset Last)? Current(string key, DateTimeOffset now) =>
        _failures.TryGetValue(key, out var f) && now - f.Last <= options.LockoutWindow ? f : null;

    private static string[] Keys(string user, string address) => ["user:" + user, "address:" + address];
}
