namespace ZeroDL.Training;

/// <summary>
/// Training speed and the time left, from the mini-batches done so far (a progress bar's images per second and ETA):
/// both measured over the last <see cref="Window"/> of wall time, so they follow a run that speeds up or slows down
/// (a warm start, a busy machine) without jumping from batch to batch.
/// </summary>
public sealed class ThroughputMeter
{
    /// <summary>
    /// The default window (10 s): long enough to hold many mini-batches and an evaluation pause, short enough that the
    /// figures follow the machine's load within seconds.
    /// </summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(10);

    private readonly Queue<(int Iteration, long Images, TimeSpan Time)> _samples = new();
    private readonly int _totalIterations;
    private (int Iteration, long Images, TimeSpan Time) _last;

    /// <summary>
    /// A meter for a run of <paramref name="totalIterations"/> mini-batches that starts (or resumes) after
    /// <paramref name="startIteration"/> at time <paramref name="start"/>.
    /// </summary>
    public ThroughputMeter(int startIteration, int totalIterations, TimeSpan start, TimeSpan? window = null)
    {
        if (startIteration < 0 || startIteration > totalIterations) throw new ArgumentOutOfRangeException(nameof(startIteration), startIteration, $"the start must lie in 0…{totalIterations}");
        Window = window ?? DefaultWindow;
        if (Window <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(window), window, "the window must be positive");
        _totalIterations = totalIterations;
        _last = (startIteration, 0, start);
        _samples.Enqueue(_last);
    }

    /// <summary>How far back the figures look.</summary>
    public TimeSpan Window { get; }

    /// <summary>Records that mini-batch <paramref name="iteration"/> is done at <paramref name="time"/>, having trained on <paramref name="images"/> images.</summary>
    public void Add(int iteration, int images, TimeSpan time)
    {
        _last = (iteration, _last.Images + images, time);
        _samples.Enqueue(_last);
        // Keep one sample at or before the window's start, so the window is always covered.
        while (_samples.Count > 2 && time - ElementAt(1).Time >= Window) _samples.Dequeue();
    }

    private (int Iteration, long Images, TimeSpan Time) ElementAt(int i) => _samples.ElementAt(i);

    /// <summary>Images per second over the window; NaN before a mini-batch is done.</summary>
    public double ImagesPerSecond
    {
        get
        {
            var first = _samples.Peek();
            double seconds = (_last.Time - first.Time).TotalSeconds;
            return seconds > 0 ? (_last.Images - first.Images) / seconds : double.NaN;
        }
    }

    /// <summary>The time the remaining mini-batches take at the window's pace; null before a mini-batch is done.</summary>
    public TimeSpan? Remaining
    {
        get
        {
            var first = _samples.Peek();
            int batches = _last.Iteration - first.Iteration;
            if (batches <= 0) return null;
            double perBatch = (_last.Time - first.Time).TotalSeconds / batches;
            return TimeSpan.FromSeconds(perBatch * (_totalIterations - _last.Iteration));
        }
    }

    /// <summary>
    /// The images mini-batch <paramref name="iteration"/> (from 1) of a run trains on: the batch size (at most the
    /// sample count), except an epoch's last without replacement, which takes the samples left.
    /// </summary>
    public static int ImagesInBatch(int iteration, int samples, int batchSize, int iterationsPerEpoch, bool withReplacement)
    {
        int size = Math.Min(batchSize, samples);
        if (withReplacement) return size;
        int position = (iteration - 1) % iterationsPerEpoch;
        return position == iterationsPerEpoch - 1 ? samples - position * size : size;
    }

    /// <summary>"1:05:09", "4:05" or "0:42": hours only when there are some.</summary>
    public static string Format(TimeSpan span)
    {
        long s = (long)Math.Round(Math.Max(0, span.TotalSeconds));
        return s >= 3600 ? $"{s / 3600}:{s / 60 % 60:00}:{s % 60:00}" : $"{s / 60}:{s % 60:00}";
    }
}
