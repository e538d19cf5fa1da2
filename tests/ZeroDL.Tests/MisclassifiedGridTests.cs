using ZeroDL.Data;
using ZeroDL.Imaging;

namespace ZeroDL.Tests;

/// <summary>The misclassified grid's caption reads like `zerodl predict`: the prediction (red) first, then the label (green).</summary>
public class MisclassifiedGridTests
{
    [Fact]
    public void Caption_shows_the_prediction_before_the_label()
    {
        var data = new Dataset(new NDArray<float>(new float[784], 1, 784), [6]);
        var canvas = ImageGrid.Misclassified(data, predicted: [0], indices: [0], columns: 1, zoom: 2);

        int firstRed = FirstColumnWith(canvas, ImageGrid.Red), firstGreen = FirstColumnWith(canvas, ImageGrid.Green);
        Assert.True(firstRed >= 0 && firstGreen >= 0, "both the prediction and the label are drawn");
        Assert.True(firstRed < firstGreen, $"the prediction (red, from x = {firstRed}) comes before the label (green, from x = {firstGreen})");
        // Between them, in gray, the "!=" that says they differ: gray pixels after the red digit and before the green one.
        Assert.Contains(Enumerable.Range(firstRed + 3 * 2, firstGreen - firstRed - 3 * 2), x => ColumnHas(canvas, x, ImageGrid.Gray));
    }

    private static int FirstColumnWith(Canvas canvas, (byte R, byte G, byte B) color)
    {
        for (int x = 0; x < canvas.Width; x++)
            if (ColumnHas(canvas, x, color)) return x;
        return -1;
    }

    private static bool ColumnHas(Canvas canvas, int x, (byte R, byte G, byte B) color)
    {
        for (int y = 0; y < canvas.Height; y++)
        {
            int i = (y * canvas.Width + x) * 3;
            if (canvas.Pixels[i] == color.R && canvas.Pixels[i + 1] == color.G && canvas.Pixels[i + 2] == color.B) return true;
        }
        return false;
    }
}
