namespace ZeroDL.Imaging;

/// <summary>A drawing prepared as MNIST prepares its digits, ready for a network: 784 values in [0, 1], light ink on dark.</summary>
public sealed record PreparedDigit(float[] Pixels, bool Empty, int InkLeft, int InkTop, int InkWidth, int InkHeight);

/// <summary>
/// The MNIST recipe for any drawing or photo of one digit (LeCun et al.): grayscale; dark ink on light paper is
/// detected from the border and inverted; the background level is subtracted; the image is cropped to the ink's
/// bounding box; the longer side is scaled to 20 pixels keeping the aspect ratio, with area averaging (anti-aliased);
/// and the result is placed in a 28×28 field with its centre of mass at the centre. A network trained on MNIST sees
/// a drawn digit the way it saw its training data — without this, drawings far larger, smaller or off-centre than
/// MNIST's digits are recognised much worse.
/// </summary>
public static class MnistPreprocessing
{
    public const int Field = 28, Box = 20;
    /// <summary>A pixel counts as ink when it is above this fraction of the brightest ink (after background removal).</summary>
    public const float InkThreshold = 0.15f;

    public static PreparedDigit Prepare(GrayImage image)
    {
        int w = image.Width, h = image.Height;
        if (w < 1 || h < 1 || image.Pixels.Length != w * h) throw new ArgumentException($"a {w}×{h} image needs {w * h} pixels, got {image.Pixels.Length}");
        foreach (float p in image.Pixels)
            if (!(p >= 0 && p <= 1)) throw new ArgumentException("pixel values must be in [0, 1] (got " + p + ")");

        // 1. Light ink on dark: the border is background; a light border means dark ink on light paper.
        float border = BorderMean(image);
        bool invert = border > 0.5f;
        float background = invert ? 1 - border : border;
        var ink = new float[w * h];
        for (int i = 0; i < ink.Length; i++)
        {
            float v = invert ? 1 - image.Pixels[i] : image.Pixels[i];
            ink[i] = Math.Clamp((v - background) / Math.Max(1e-6f, 1 - background), 0, 1);
        }
        // 2. The ink's bounding box.
        float max = ink.Max();
        if (max <= 0.05f) return new PreparedDigit(new float[Field * Field], Empty: true, 0, 0, 0, 0);
        int left = w, right = -1, top = h, bottom = -1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (ink[y * w + x] > InkThreshold * max)
                {
                    left = Math.Min(left, x); right = Math.Max(right, x);
                    top = Math.Min(top, y); bottom = Math.Max(bottom, y);
                }
        int boxW = right - left + 1, boxH = bottom - top + 1;
        // 3. Longer side to 20 pixels, keeping the aspect ratio.
        double scale = (double)Box / Math.Max(boxW, boxH);
        int outW = Math.Clamp((int)Math.Round(boxW * scale), 1, Box), outH = Math.Clamp((int)Math.Round(boxH * scale), 1, Box);
        var small = AreaResample(ink, w, left, top, boxW, boxH, outW, outH);
        // 4. Centre of mass to the centre of the 28×28 field (whole-pixel shift, kept inside the field).
        double mass = 0, cx = 0, cy = 0;
        for (int y = 0; y < outH; y++)
            for (int x = 0; x < outW; x++) { double v = small[y * outW + x]; mass += v; cx += v * x; cy += v * y; }
        cx /= mass; cy /= mass;
        int offX = Math.Clamp((int)Math.Round(Field / 2.0 - 0.5 - cx), 0, Field - outW);
        int offY = Math.Clamp((int)Math.Round(Field / 2.0 - 0.5 - cy), 0, Field - outH);
        var field = new float[Field * Field];
        for (int y = 0; y < outH; y++)
            for (int x = 0; x < outW; x++) field[(y + offY) * Field + x + offX] = small[y * outW + x];
        float peak = field.Max();
        if (peak > 0) for (int i = 0; i < field.Length; i++) field[i] = Math.Min(1, field[i] / peak); // full-strength ink, as MNIST's
        return new PreparedDigit(field, Empty: false, left, top, boxW, boxH);
    }

    private static float BorderMean(GrayImage image)
    {
        int w = image.Width, h = image.Height;
        double sum = 0; int count = 0;
        for (int x = 0; x < w; x++) { sum += image.Pixels[x] + image.Pixels[(h - 1) * w + x]; count += 2; }
        for (int y = 1; y < h - 1; y++) { sum += image.Pixels[y * w] + image.Pixels[y * w + w - 1]; count += 2; }
        return (float)(sum / count);
    }

    /// <summary>
    /// Resamples the box (left, top, boxW, boxH) of a w-wide image to outW × outH: each output pixel is the mean of the
    /// source area it covers, fractional pixels weighted by coverage (a box filter: anti-aliased when shrinking).
    /// </summary>
    private static float[] AreaResample(float[] src, int w, int left, int top, int boxW, int boxH, int outW, int outH)
    {
        var result = new float[outW * outH];
        double sx = (double)boxW / outW, sy = (double)boxH / outH;
        for (int oy = 0; oy < outH; oy++)
        {
            double y0 = oy * sy, y1 = y0 + sy;
            for (int ox = 0; ox < outW; ox++)
            {
                double x0 = ox * sx, x1 = x0 + sx, sum = 0, area = 0;
                for (int y = (int)Math.Floor(y0); y < Math.Min(boxH, (int)Math.Ceiling(y1)); y++)
                {
                    double cover = Math.Min(y1, y + 1) - Math.Max(y0, y);
                    if (cover <= 0) continue;
                    for (int x = (int)Math.Floor(x0); x < Math.Min(boxW, (int)Math.Ceiling(x1)); x++)
                    {
                        double c = cover * (Math.Min(x1, x + 1) - Math.Max(x0, x));
                        if (c <= 0) continue;
                        sum += c * src[(top + y) * w + left + x];
                        area += c;
                    }
                }
                result[oy * outW + ox] = area > 0 ? (float)(sum / area) : 0;
            }
        }
        return result;
    }
}
