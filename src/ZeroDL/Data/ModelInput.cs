using System.Globalization;
using System.Text.Json;
using ZeroDL.Imaging;
using ZeroDL.Serialization;

namespace ZeroDL.Data;

/// <summary>
/// What a model file says about the images it takes: its input shape, the image shape behind it (C×H×W; for a dense
/// model, the one its training settings record as <c>image_shape</c>), its class names and normalization, and the data
/// it was trained on. Turns an image file into the model's input (<see cref="FromPng"/>).
/// </summary>
public sealed record ModelInput
{
    private ModelInput(IReadOnlyList<int> inputShape, (int Channels, int Height, int Width)? imageShape, IReadOnlyList<string> classNames,
        InputNormalization normalization, IReadOnlyDictionary<string, string> training)
    {
        InputShape = inputShape; ImageShape = imageShape; ClassNames = classNames; Normalization = normalization; Training = training;
    }

    public IReadOnlyList<int> InputShape { get; }
    public (int Channels, int Height, int Width)? ImageShape { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public InputNormalization Normalization { get; }
    /// <summary>The model file's training settings (its "training" metadata; empty when it has none).</summary>
    public IReadOnlyDictionary<string, string> Training { get; }

    /// <summary>The data the model was trained on, as <c>--data</c> names it ("mnist" when the file does not say).</summary>
    public string Data => Training.GetValueOrDefault("data", "mnist");

    /// <summary>
    /// A model of MNIST's digits: ten classes named 0 … 9, 28×28 gray input taken as pixels / 255, trained on MNIST.
    /// Its images get MNIST's digit preparation (<see cref="MnistPreprocessing"/>) rather than a plain resize.
    /// </summary>
    public bool IsMnistDigits =>
        Data == "mnist" && ClassNames.SequenceEqual(ModelFile.DefaultClassNames(10)) && Normalization is { IsIdentity: true, PixelScale: 255f, Channels: 1 }
        && InputShape.Aggregate(1, (a, d) => a * d) == 784;

    public static ModelInput Of(LoadedModel model)
    {
        IReadOnlyDictionary<string, string> training = new Dictionary<string, string>();
        if (model.Metadata.TryGetValue("training", out var json))
        {
            try { training = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? []; }
            catch (JsonException) { }
        }
        var input = model.Network.InputShape;
        int size = input.Aggregate(1, (a, d) => a * d);
        (int, int, int)? image = null;
        if (input.Length == 3) image = (input[0], input[1], input[2]);
        else if (training.TryGetValue("image_shape", out var recorded) && recorded.Split('x') is [var c, var h, var w]
                 && int.TryParse(c, CultureInfo.InvariantCulture, out int ci) && int.TryParse(h, CultureInfo.InvariantCulture, out int hi)
                 && int.TryParse(w, CultureInfo.InvariantCulture, out int wi) && (long)ci * hi * wi == size)
            image = (ci, hi, wi);
        else if (size == 784 && model.Normalization.Channels == 1) image = (1, 28, 28);
        return new ModelInput([.. input], image, model.ClassNames, model.Normalization, training);
    }

    /// <summary>
    /// A PNG as the model's input values (C·H·W): resized to the model's image size and normalized as in training, the
    /// values <see cref="ImageInput.ToInput"/> gives for the decoded image, decoded and resized in one streaming pass
    /// (<see cref="ImageInput.FromPng"/>) so a large upload is never held at full size. Throws
    /// <see cref="DataFormatException"/> naming <paramref name="source"/> for a file that is not a PNG, is corrupt, is
    /// larger than <paramref name="maxPixels"/> (<see cref="ImageInput.MaxPixels"/> unless given) or does not have the
    /// model's channels, or when the model records no image shape.
    /// </summary>
    public float[] FromPng(byte[] bytes, string source, long maxPixels = ImageInput.MaxPixels)
    {
        var (c, h, w) = ImageShape ?? throw DataFormatException.For(source, $"the model takes {string.Join("×", InputShape)} values and does not record the image shape behind them");
        return ImageInput.FromPng(bytes, c, h, w, Normalization, source, maxPixels);
    }
}
