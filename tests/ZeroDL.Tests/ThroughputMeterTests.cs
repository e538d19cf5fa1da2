using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>The progress bar's images per second and ETA.</summary>
public class ThroughputMeterTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void A_steady_run_reads_its_pace_and_the_time_its_remaining_batches_take()
    {
        var meter = new ThroughputMeter(0, 100, S(0));
        Assert.True(double.IsNaN(meter.ImagesPerSecond));
        Assert.Null(meter.Remaining);
        for (int i = 1; i <= 50; i++) meter.Add(i, 100, S(0.1 * i));
        Assert.Equal(1000, meter.ImagesPerSecond, 6);
        Assert.Equal(5, meter.Remaining!.Value.TotalSeconds, 6); // 50 batches of 0.1 s
    }

    [Fact]
    public void The_figures_follow_a_change_of_pace_within_the_window()
    {
        var meter = new ThroughputMeter(0, 1000, S(0), window: S(10));
        int i = 0;
        for (; i < 200; i++) meter.Add(i + 1, 100, S(0.1 * (i + 1)));       // 20 s at 1000 images/s
        double t = 20;
        for (; i < 500; i++) meter.Add(i + 1, 100, S(t += 0.05));          // then 2000 images/s, for 15 s
        Assert.Equal(2000, meter.ImagesPerSecond, 1);
        Assert.Equal(500 * 0.05, meter.Remaining!.Value.TotalSeconds, 1);
    }

    [Fact]
    public void A_resumed_run_counts_from_its_start()
    {
        var meter = new ThroughputMeter(40, 50, S(3));
        meter.Add(41, 10, S(4));
        meter.Add(42, 10, S(5));
        Assert.Equal(10, meter.ImagesPerSecond, 9);
        Assert.Equal(8, meter.Remaining!.Value.TotalSeconds, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThroughputMeter(51, 50, S(0)));
    }

    [Theory]
    [InlineData(1, 100)]
    [InlineData(3, 50)]   // 250 samples in batches of 100: the epoch's last takes the 50 left
    [InlineData(4, 100)]
    [InlineData(6, 50)]
    public void A_batch_holds_the_batch_size_but_an_epochs_last_the_samples_left(int iteration, int images)
    {
        Assert.Equal(images, ThroughputMeter.ImagesInBatch(iteration, 250, 100, 3, withReplacement: false));
        Assert.Equal(100, ThroughputMeter.ImagesInBatch(iteration, 250, 100, 2, withReplacement: true));
        Assert.Equal(30, ThroughputMeter.ImagesInBatch(iteration, 30, 100, 1, withReplacement: false));
    }

    [Theory]
    [InlineData(42, "0:42")]
    [InlineData(245, "4:05")]
    [InlineData(3909, "1:05:09")]
    [InlineData(-3, "0:00")]
    public void Times_read_as_minutes_and_seconds_with_hours_when_there_are_some(double seconds, string text) =>
        Assert.Equal(text, ThroughputMeter.Format(S(seconds)));
}
