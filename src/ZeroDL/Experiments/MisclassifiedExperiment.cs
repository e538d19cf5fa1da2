using System.Globalization;
using ZeroDL.Imaging;
using ZeroDL.Serialization;
using ZeroDL.Training;

namespace ZeroDL.Experiments;

/// <summary>Ch. 8.1: the test digits the book's trained DeepConvNet gets wrong.</summary>
public sealed class MisclassifiedExperiment : Experiment
{
    public override string Name => "misclassified";
    public override string Chapter => "8.1";
    public override string Title => "the digits the book's DeepConvNet misclassifies";

    public override ExperimentResult Run(ExperimentContext context)
    {
        var test = context.Quick ? context.Mnist.Test.Take(2000) : context.Mnist.Test;
        var net = BookWeights.LoadDeepConvNet(HalfPrecisionExperiment.BookWeightsPath(context, "deep_convnet_2016.npz"));
        var predicted = net.PredictLabels(test);
        var wrong = Enumerable.Range(0, test.Count).Where(i => predicted[i] != test.Labels[i]).ToList();
        context.WriteCsv("misclassified.csv", "index,predicted,label", wrong.Select(i => new object[] { i, predicted[i], test.Labels[i] }));
        var shown = wrong.Take(20).ToList();
        if (shown.Count > 0) context.SaveCanvas("misclassified.png", ImageGrid.Misclassified(test, predicted, shown, 5, zoom: 3));
        var figures = new Dictionary<string, double> { ["misclassified"] = wrong.Count, ["images"] = test.Count, ["accuracy"] = 1 - (double)wrong.Count / test.Count };
        string summary = $"""
            The book's trained DeepConvNet (data/reference/deep_convnet_2016.npz) misclassifies {wrong.Count} of {test.Count} test
            images ({ExperimentContext.G(figures["accuracy"] * 100, 4)} % correct). `misclassified.png` shows the first
            {shown.Count}, captioned index: prediction != label (the book's figure 8-4 puts the label first); all are in `misclassified.csv`.
            Many are hard for people too — a 6 whose loop is open, a 3 that is nearly a 5.

            Indices: {string.Join(" ", wrong)}
            """;
        return new ExperimentResult(summary, figures);
    }
}
