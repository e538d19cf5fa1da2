using System.Text.Json;
using ZeroDL.Imaging;
using ZeroDL.Kernels;
using ZeroDL.Models;

namespace ZeroDL.Web;

/// <summary>
/// The answer to a prediction request: the predicted label and its class name, every class's probability and name,
/// and the input the network saw (for an MNIST digit model the 28×28 image, else the C·H·W normalized values).
/// </summary>
public sealed record PredictionResult(string Model, int Label, float[] Probabilities, float[] Image, bool Preprocessed, bool Empty,
    string ClassName, IReadOnlyList<string> Classes);

/// <summary>A request the client got wrong: becomes a 4xx with a JSON error message.</summary>
public sealed class BadRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>Turns a PNG upload or JSON pixels into the network's input and runs it.</summary>
public static class Prediction
{
    /// <summary>A PNG of any size: decoded to gray and prepared as MNIST prepares its digits.</summary>
    public static float[] FromPng(byte[] body, out bool empty)
    {
        if (body.Length == 0) throw new BadRequestException(400, "the request body is empty: send a PNG image or JSON");
        if (!Png.IsPng(body)) throw new BadRequestException(415, "the body is not a PNG image");
        PreparedDigit prepared;
        try { prepared = Data.ImageInput.PrepareDigit(body, "upload"); } // streams: a large upload is never held at full size
        catch (Data.DataFormatException e) { throw new BadRequestException(400, e.Message.Replace("upload: ", "")); }
        empty = prepared.Empty;
        return prepared.Pixels;
    }

    /// <summary>
    /// A PNG for a model that is not of MNIST digits: resized to the model's input and normalized as its training data
    /// was (<see cref="Data.ModelInput.FromPng"/>). A file with other channels than the model's is a 400 saying so.
    /// </summary>
    public static float[] FromPng(byte[] body, Data.ModelInput model)
    {
        if (body.Length == 0) throw new BadRequestException(400, "the request body is empty: send a PNG image");
        if (!Png.IsPng(body)) throw new BadRequestException(415, "the body is not a PNG image");
        try { return model.FromPng(body, "upload"); }
        catch (Data.DataFormatException e) { throw new BadRequestException(400, e.Message.Replace("upload: ", "the image ")); }
    }

    /// <summary>
    /// JSON {"pixels": [784 numbers]} or {"image": [[28 numbers] × 28]}, values in [0, 1], light ink on dark as MNIST;
    /// optional "preprocess": true to apply the MNIST recipe (for drawings), "model": a model name.
    /// </summary>
    public static (float[] Pixels, bool Preprocess, string? Model) FromJson(byte[] body)
    {
        if (body.Length == 0) throw new BadRequestException(400, "the request body is empty: send a PNG image or JSON");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body); }
        catch (JsonException e) { throw new BadRequestException(400, "invalid JSON: " + e.Message); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new BadRequestException(400, "the JSON must be an object with \"pixels\" (784 numbers) or \"image\" (28×28)");
            bool preprocess = root.TryGetProperty("preprocess", out var p) && p.ValueKind == JsonValueKind.True;
            string? model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var values = new List<float>(784);
            if (root.TryGetProperty("pixels", out var pixels))
            {
                if (pixels.ValueKind != JsonValueKind.Array) throw new BadRequestException(400, "\"pixels\" must be an array of 784 numbers");
                foreach (var v in pixels.EnumerateArray()) values.Add(Number(v));
            }
            else if (root.TryGetProperty("image", out var image))
            {
                if (image.ValueKind != JsonValueKind.Array || image.GetArrayLength() != 28)
                    throw new BadRequestException(400, "\"image\" must be 28 rows of 28 numbers");
                foreach (var row in image.EnumerateArray())
                {
                    if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != 28) throw new BadRequestException(400, "\"image\" must be 28 rows of 28 numbers");
                    foreach (var v in row.EnumerateArray()) values.Add(Number(v));
                }
            }
            else throw new BadRequestException(400, "the JSON needs \"pixels\" (784 numbers) or \"image\" (28×28)");
            if (values.Count != 784) throw new BadRequestException(400, $"expected 784 pixel values (28×28), got {values.Count}");
            return ([.. values], preprocess, model);
        }

        static float Number(JsonElement v)
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
                throw new BadRequestException(400, "pixel values must be numbers");
            if (d < 0 || d > 1) throw new BadRequestException(400, $"pixel values must be in [0, 1] (got {d})");
            return (float)d;
        }
    }

    /// <summary>Softmax probabilities of the network for one input, computed on the calling thread only.</summary>
    public static PredictionResult Run(Sequential<float> net, string model, float[] pixels, bool preprocessed, bool empty, IReadOnlyList<string> classes)
    {
        using var oneCore = Gemm.LimitThreadsOnThisThread(1); // requests are the parallelism: one core each
        int[] shape = [1, .. net.InputShape];
        var probabilities = net.PredictProbabilities(NDArray<float>.FromArray(pixels, shape)).ReadOnlySpan.ToArray();
        int label = 0;
        for (int i = 1; i < probabilities.Length; i++) if (probabilities[i] > probabilities[label]) label = i;
        return new PredictionResult(model, label, probabilities, pixels, preprocessed, empty, classes[label], classes);
    }
}
