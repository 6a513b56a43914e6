namespace RunbookPilot.Domain.Yaml;

/// <summary>Suggests the closest known word for a misspelt one.</summary>
public static class DidYouMean
{
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = Distance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }
        var allowed = Math.Max(2, word.Length / 3);
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>" (did you mean 'x'?)" or an empty string.</summary>
    public static string Hint(string word, IEnumerable<string> candidates) =>
        Closest(word, candidates) is { } match ? $" (did you mean '{match}'?)" : "";

    internal static int Distance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64) return int.MaxValue;
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
