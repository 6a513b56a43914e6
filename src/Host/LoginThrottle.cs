using System.Collections.Concurrent;

namespace RunbookPilot.Host;

/// <summary>
/// Failed sign-ins (basic auth, and webhook tokens or signatures), counted within <see cref="ServerOptions.LockoutWindow"/>
/// per source address, per user and address, and per user. After <see cref="ServerOptions.SlowAfterFailures"/> failures
/// each further failure is answered more slowly (0.25 s, doubling, at most 4 s); after
/// <see cref="ServerOptions.LockAfterFailures"/> from an address (or for a user from that address) every attempt from
/// there is answered 429 with Retry-After until the window has passed since the last failure — the right password
/// included, so guessing gains nothing. A user is never locked out everywhere: someone guessing the admin's password
/// from one address does not lock the admin out of another. A successful sign-in is never slowed and clears its
/// user's count from that address. At most <see cref="Capacity"/> counters are kept (expired ones go first), so random
/// user names cannot grow memory without bound.
/// </summary>
public sealed class LoginThrottle(ServerOptions options, TimeProvider time)
{
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, (int Count, DateTimeOffset First, DateTimeOffset Last)> _failures = new(StringComparer.Ordinal);

    /// <summary>How long sign-ins for this user from this address are refused, or null when they are not.</summary>
    public TimeSpan? Locked(string user, string address)
    {
        var now = time.GetUtcNow();
        TimeSpan? longest = null;
        foreach (var key in new[] { "address:" + address, $"user:{user}@{address}" })
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
        if (_failures.Count >= Capacity) Evict(now);
        var worst = 0;
        foreach (var key in new[] { "address:" + address, $"user:{user}@{address}", "user:" + user })
        {
            var updated = _failures.AddOrUpdate(key, _ => (1, now, now),
                (_, f) => now - f.Last > options.LockoutWindow ? (1, now, now) : (f.Count + 1, f.First, now));
            worst = Math.Max(worst, updated.Count);
        }
        var over = worst - options.SlowAfterFailures;
        return over <= 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Min(4000, 250 * (1 << Math.Min(over - 1, 5))));
    }

    /// <summary>Counters kept now (bounded by <see cref="Capacity"/>).</summary>
    public int Counters => _failures.Count;

    /// <summary>
    /// A wrong webhook token or signature: counted under a key of its own and only slowed (the secret has at least 16
    /// characters), never locked, so failed sign-ins from a shared address cannot make a SIEM's alerts bounce.
    /// </summary>
    public TimeSpan FailedWebhook(string address)
    {
        var now = time.GetUtcNow();
        if (_failures.Count >= Capacity) Evict(now);
        var count = _failures.AddOrUpdate("webhook:" + address, _ => (1, now, now),
            (_, f) => now - f.Last > options.LockoutWindow ? (1, now, now) : (f.Count + 1, f.First, now)).Count;
        var over = count - options.SlowAfterFailures;
        return over <= 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Min(4000, 250 * (1 << Math.Min(over - 1, 5))));
    }

    public void Succeeded(string user, string address) => _failures.TryRemove($"user:{user}@{address}", out _);

    private (int Count, DateTimeOffset First, DateTimeOffset Last)? Current(string key, DateTimeOffset now) =>
        _failures.TryGetValue(key, out var f) && now - f.Last <= options.LockoutWindow ? f : null;

    /// <summary>Drops expired counters; when still full, the oldest half.</summary>
    private void Evict(DateTimeOffset now)
    {
        foreach (var (key, f) in _failures)
            if (now - f.Last > options.LockoutWindow) _failures.TryRemove(key, out _);
        if (_failures.Count < Capacity) return;
        foreach (var (key, _) in _failures.OrderBy(f => f.Value.Last).Take(_failures.Count / 2).ToList()) _failures.TryRemove(key, out _);
    }
}
