using ZeroDL.Charts;

namespace ZeroDL.Tuning;

/// <summary>Figures of a search: validation accuracy over (learning rate, weight decay), and the best-so-far curve.</summary>
public static class TuningReport
{
    /// <summary>The trials as points on log axes, split into the best fifth, the middle and the rest.</summary>
    public static Chart Scatter(IReadOnlyList<Trial> trials, string title)
    {
        var ranked = trials.OrderByDescending(t => t.ValidationAccuracy).ToList();
        int top = Math.Max(1, ranked.Count / 5);
        Series Group(string name, IEnumerable<Trial> group, string color)
        {
            var g = group.ToList();
            return new Series(name, g.Select(t => t.LearningRate).ToArray(), g.Select(t => t.WeightDecay).ToArray()) { ScatterOnly = true, Color = color };
        }
        return new Chart
        {
            Title = title, X = new Axis("learning rate") { Log = true }, Y = new Axis("weight decay λ") { Log = true },
            Series =
            [
                Group($"best {top} (val ≥ {ranked[top - 1].ValidationAccuracy:P0})", ranked.Take(top), "#d62728"),
                Group("middle", ranked.Skip(top).Take(Math.Max(0, ranked.Count / 2 - top)), "#ff7f0e"),
                Group("lower half", ranked.Skip(Math.Max(top, ranked.Count / 2)), "#9aa"),
            ],
        };
    }

    /// <summary>Best validation accuracy after each trial.</summary>
    public static double[] BestSoFar(IReadOnlyList<Trial> trials)
    {
        var result = new double[trials.Count];
        double best = 0;
        for (int i = 0; i < trials.Count; i++) result[i] = best = Math.Max(best, trials[i].ValidationAccuracy);
        return result;
    }
}
