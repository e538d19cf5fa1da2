using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>
/// <see cref="LayerProfile"/>'s garbage-collection counts. In the collection that runs alone: a collection is
/// process-wide, and another test's allocations could start one inside the few steps measured here.
/// </summary>
[Collection(ProcessWideSettings.Name)]
public class LayerProfileTests
{
    /// <summary>An optimizer that leaves the weights as they are and forces a full garbage collection on chosen steps (the first is 1).</summary>
    private sealed class CollectingOptimizer(Func<int, bool> collectOnStep) : Optimizer<float>(0.01)
    {
        private int _step;
        public override string Name => "collecting";
        protected override int StateSlots => 0;
        protected override void BeginStep() { if (collectOnStep(++_step)) GC.Collect(); }
        protected override void Update(Span<float> param, ReadOnlySpan<float> grad, float[][] state) { }
    }

    [Fact]
    public void A_profile_counts_only_the_collections_of_its_timed_steps()
    {
        // The warm-up makes every buffer, and a collection then is no cost of training; the bench once reported such a
        // one as "30 per epoch" (one in 20 iterations, warm-up included).
        var rng = new Rng(5);
        var images = new NDArray<float>(300, 784);
        rng.FillUniform(images.Data, 0, 1);
        var train = new Data.Dataset(images, Enumerable.Range(0, 300).Select(i => i % 10).ToArray());
        var net = Networks.TwoLayerNet<float>(784, 20, 10, seed: 1);
        // Up to three tries: a collection another thread starts (the runner's own) would count, and cannot come every
        // time; the warm-up's three forced ones would.
        var counted = Enumerable.Range(0, 3)
            .Select(_ => LayerProfile.Measure(net, new CollectingOptimizer(step => step <= 3), train, iterations: 4).Gen2Collections)
            .TakeWhile(n => n != 0).ToList();
        Assert.True(counted.Count < 3, $"full collections counted in three profiles whose timed steps forced none: {string.Join(", ", counted)}");
        var everyStep = LayerProfile.Measure(net, new CollectingOptimizer(_ => true), train, iterations: 4);
        Assert.True(everyStep.Gen2Collections >= 4, $"{everyStep.Gen2Collections} full collections in 4 timed steps that each forced one");
        Assert.True(everyStep.Gen0Collections >= everyStep.Gen2Collections);
    }
}
