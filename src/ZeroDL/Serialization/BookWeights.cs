using ZeroDL.Data;
using ZeroDL.Models;

namespace ZeroDL.Serialization;

/// <summary>
/// Weights saved by the book's NumPy code (W1, b1, W2, b2, …; Affine W as (in, out)) loaded into ZeroDL networks.
/// </summary>
public static class BookWeights
{
    /// <summary>
    /// Copies W1/b1 … Wn/bn of <paramref name="arrays"/> into the network's affine1 … affine n, checking names and shapes.
    /// </summary>
    public static void CopyDense(Sequential<float> net, IReadOnlyDictionary<string, NpyArray> arrays, string source)
    {
        int i = 0;
        foreach (var (name, p) in net.NamedParameters())
        {
            if (!name.StartsWith("affine", StringComparison.Ordinal)) continue;
            string layer = name[6..name.IndexOf('.')];
            string key = (name.EndsWith(".W", StringComparison.Ordinal) ? "W" : "b") + layer;
            if (!arrays.TryGetValue(key, out var array)) throw DataFormatException.For(source, $"array '{key}' is missing");
            if (!p.Value.SameShape(array.Shape))
                throw DataFormatException.For(source, $"array '{key}' has shape ({string.Join(", ", array.Shape)}), the network needs {p.Value.ShapeText}");
            CopyFinite(array, key, p.Value.Span, source);
            i++;
        }
        if (i == 0) throw DataFormatException.For(source, "the network has no affine layers to fill");
    }

    /// <summary>
    /// The book's trained DeepConvNet: W1…W6 (out, in, 3, 3) into conv1…conv6, W7 (1024, hidden) and W8 (hidden, 10)
    /// into affine1 and affine2, b1…b8 likewise; float64 values are rounded to float32. Dropout is the book's
    /// classic rule, which these weights were trained for.
    /// </summary>
    public static Sequential<float> LoadDeepConvNet(string npzPath)
    {
        var arrays = Npy.ReadNpz(npzPath);
        int hidden = MatrixShape(arrays, "W7", npzPath)[1];
        return CopyNumbered(Networks.DeepConvNet<float>(seed: 0, hiddenSize: hidden), arrays, npzPath);
    }

    /// <summary>
    /// The book's SimpleConvNet (ch. 7.5) from its params.pkl saved as .npz: W1 (30, 1, 5, 5), b1, W2 (4320, hidden),
    /// b2, W3 (hidden, 10), b3.
    /// </summary>
    public static Sequential<float> LoadSimpleConvNet(string npzPath)
    {
        var arrays = Npy.ReadNpz(npzPath);
        int hidden = MatrixShape(arrays, "W2", npzPath)[1];
        return CopyNumbered(Networks.SimpleConvNet<float>(seed: 0, hiddenSize: hidden), arrays, npzPath);
    }

    /// <summary>
    /// Rounds the array's values to float32 into <paramref name="destination"/>, refusing a NaN, an infinity, or a value
    /// beyond float32's range (which would round to infinity), naming the array and the index: such a weight makes every
    /// prediction NaN, so it is refused at import rather than found at predict time.
    /// </summary>
    private static void CopyFinite(NpyArray array, string key, Span<float> destination, string source)
    {
        var values = array.Data;
        for (int k = 0; k < values.Length; k++)
        {
            float v = (float)values[k];
            if (!float.IsFinite(v))
                throw DataFormatException.For(source, double.IsFinite(values[k])
                    ? $"array '{key}' holds {values[k].ToString("R", System.Globalization.CultureInfo.InvariantCulture)} at index {k}, beyond float32's range"
                    : $"array '{key}' holds {(double.IsNaN(values[k]) ? "NaN" : values[k] > 0 ? "+infinity" : "−infinity")} at index {k}; weights must be finite");
            destination[k] = v;
        }
    }

    private static int[] MatrixShape(IReadOnlyDictionary<string, NpyArray> arrays, string key, string source) =>
        arrays.TryGetValue(key, out var a) && a.Shape.Length == 2 ? a.Shape : throw DataFormatException.For(source, $"array '{key}' is missing or not a matrix");

    /// <summary>Fills the network's convolution and Affine layers, numbered 1, 2, … in layer order, from W1, b1, W2, b2, … (the book's naming).</summary>
    private static Sequential<float> CopyNumbered(Sequential<float> net, IReadOnlyDictionary<string, NpyArray> arrays, string source)
    {
        int index = 0;
        foreach (var layer in net.Layers)
        {
            if (layer is not (Layers.Convolution<float> or Layers.Affine<float>)) continue;
            index++;
            foreach (var p in layer.Parameters)
            {
                string key = (p.Name == "W" ? "W" : "b") + index;
                if (!arrays.TryGetValue(key, out var array)) throw DataFormatException.For(source, $"array '{key}' is missing");
                if (!p.Value.SameShape(array.Shape))
                    throw DataFormatException.For(source, $"array '{key}' has shape ({string.Join(", ", array.Shape)}), the network needs {p.Value.ShapeText}");
                CopyFinite(array, key, p.Value.Span, source);
            }
        }
        return net;
    }

    public static Sequential<float> LoadSampleWeightNetwork(string npzPath)
    {
        var arrays = Npy.ReadNpz(npzPath);
        int[] Shape(string key) => arrays.TryGetValue(key, out var a) && a.Shape.Length == 2 ? a.Shape
            : throw DataFormatException.For(npzPath, $"array '{key}' is missing or not a matrix");
        int[] w1 = Shape("W1"), w2 = Shape("W2"), w3 = Shape("W3");
        var net = Networks.MultiLayerNet<float>([w1[1], w2[1]], seed: 0, Layers.Activation.Sigmoid, WeightInit.Std(0.01), inputSize: w1[0], outputSize: w3[1]);
        CopyDense(net, arrays, npzPath);
        return net;
    }
}
