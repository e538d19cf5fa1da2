using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ZeroDL.Kernels;

/// <summary>
/// Stride-1 convolution of single-channel images (a network's first layer on grey images), any filter size and
/// padding, with the output plane walked as one flat run of OH·OW positions. Each image is first copied into KW
/// column-shifted planes S_kx of (OH + KH − 1) rows × OW columns, S_kx[r, x] = x[r − pad, x + kx − pad] (0 outside the
/// image): tap (ky, kx) of output position p = y·OW + x is then S_kx[p + ky·OW], the same offset for every p, so a
/// vector of outputs crosses rows without masks. Forward keeps the taps in L1 and writes every filter's output
/// vector once, bias and ReLU applied in registers: its floor is writing the output. Each output is the same chain of
/// fused multiply-adds as <see cref="ShiftedConvolution"/>'s (taps in order from 0, then + bias, then max(0, ·)), so
/// both give the same bits, on either vector width. <see cref="ForwardReference"/> is the plain version.
/// </summary>
internal static unsafe class SingleChannelConvolution
{
    /// <summary>Whether this path applies: one input channel, stride 1, and the 256-bit FMA the kernels use.</summary>
    public static bool Applies(int channels, int stride) =>
        channels == 1 && stride == 1 && System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    /// <summary>Floats of the column-shifted planes of one image: KW planes of (OH + KH − 1) × OW.</summary>
    internal static int ShiftedSize(int oh, int ow, int kh, int kw) => kw * (oh + kh - 1) * ow;

    /// <summary>Per-thread buffer of column-shifted planes.</summary>
    [ThreadStatic] private static float[]? t_shifted;

    private static float[] ShiftedBuffer(int length)
    {
        var buffer = t_shifted;
        if (buffer is null || buffer.Length < length) t_shifted = buffer = new float[length];
        return buffer;
    }

    /// <summary>
    /// The KW column-shifted planes of one H × W image into <paramref name="s"/> (<see cref="ShiftedSize"/> floats):
    /// plane kx, row r, column x = image[r − pad, x + kx − pad], 0 outside the image.
    /// </summary>
    internal static void Shift(ReadOnlySpan<float> image, int h, int w, int kh, int kw, int pad, int oh, int ow, Span<float> s)
    {
        int rows = oh + kh - 1, size = rows * ow;
        s[..(kw * size)].Clear();
        for (int kx = 0; kx < kw; kx++)
        {
            // Columns x with 0 ≤ x + kx − pad < W, rows r with 0 ≤ r − pad < H.
            int x0 = Math.Max(0, pad - kx), x1 = Math.Min(ow, w + pad - kx);
            if (x0 >= x1) continue;
            int r0 = Math.Max(0, pad), r1 = Math.Min(rows, h + pad);
            for (int r = r0; r < r1; r++)
                image.Slice((r - pad) * w + x0 + kx - pad, x1 - x0).CopyTo(s.Slice(kx * size + r * ow + x0, x1 - x0));
        }
    }

    /// <summary>
    /// y (images × F × OH × OW) = conv(x (images × 1 × H × W), weights (F × KH·KW)) + bias, stride 1, padding
    /// <paramref name="pad"/>, then max(0, ·) where <paramref name="rectify"/>; <paramref name="wide"/>: 512-bit vectors
    /// (the same bits).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, int images, int h, int w, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        int filters, int kh, int kw, int pad, Span<float> y, bool wide, bool rectify)
    {
        int oh = ConvShape.OutputSize(h, kh, 1, pad), ow = ConvShape.OutputSize(w, kw, 1, pad), taps = kh * kw, plane = oh * ow;
        if (images < 1 || x.Length < images * h * w || weights.Length < filters * taps || bias.Length < filters || y.Length < images * filters * plane)
            throw new ArgumentException("single-channel convolution: a buffer is too small for the geometry");
        int shiftedSize = ShiftedSize(oh, ow, kh, kw), planeRows = (oh + kh - 1) * ow;
        var s = ShiftedBuffer(shiftedSize);
        int* offsets = stackalloc int[taps];
        for (int ky = 0, q = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) offsets[q++] = kx * planeRows + ky * ow;
        fixed (float* ps = s) fixed (float* pw = weights) fixed (float* pb = bias) fixed (float* py = y)
            for (int i = 0; i < images; i++)
            {
                Shift(x.Slice(i * h * w, h * w), h, w, kh, kw, pad, oh, ow, s);
                float* yi = py + (long)i * filters * plane;
                int p = 0;
                if (wide)
                    for (; p + 16 <= plane; p += 16) Pixels<Vector512<float>, Float16>(ps + p, offsets, taps, pw, pb, filters, yi + p, plane, rectify);
                for (; p + 8 <= plane; p += 8) Pixels<Vector256<float>, Float8>(ps + p, offsets, taps, pw, pb, filters, yi + p, plane, rectify);
                for (; p < plane; p++) Pixel(ps + p, offsets, taps, pw, pb, filters, yi + p, plane, rectify);
            }
    }

    /// <summary>
    /// One vector of output positions (8 or 16) of every filter: the taps' chain of multiply-adds from 0, + bias,
    /// max(0, ·). Eight filters at a time, so that eight independent chains hide the multiply-add's latency (one
    /// filter's nine-long chain alone left the core mostly idle); the last few filters one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pixels<TV, V>(float* s, int* offsets, int taps, float* weights, float* bias, int filters, float* y, int plane, bool rectify)
        where TV : struct where V : struct, IFloatVectors<TV>
    {
        int f = 0;
        for (; f + 8 <= filters; f += 8, y += 8 * (long)plane)
        {
            TV a0 = V.Zero, a1 = V.Zero, a2 = V.Zero, a3 = V.Zero, a4 = V.Zero, a5 = V.Zero, a6 = V.Zero, a7 = V.Zero;
            float* w = weights + f * taps;
            for (int q = 0; q < taps; q++, w++)
            {
                var v = V.Load(s + offsets[q]);
                a0 = V.MultiplyAdd(V.Broadcast(w + 0 * taps), v, a0);
                a1 = V.MultiplyAdd(V.Broadcast(w + 1 * taps), v, a1);
                a2 = V.MultiplyAdd(V.Broadcast(w + 2 * taps), v, a2);
                a3 = V.MultiplyAdd(V.Broadcast(w + 3 * taps), v, a3);
                a4 = V.MultiplyAdd(V.Broadcast(w + 4 * taps), v, a4);
                a5 = V.MultiplyAdd(V.Broadcast(w + 5 * taps), v, a5);
                a6 = V.MultiplyAdd(V.Broadcast(w + 6 * taps), v, a6);
                a7 = V.MultiplyAdd(V.Broadcast(w + 7 * taps), v, a7);
            }
            Finish<TV, V>(a0, bias + f + 0, y + 0 * (long)plane, rectify);
            Finish<TV, V>(a1, bias + f + 1, y + 1 * (long)plane, rectify);
            Finish<TV, V>(a2, bias + f + 2, y + 2 * (long)plane, rectify);
            Finish<TV, V>(a3, bias + f + 3, y + 3 * (long)plane, rectify);
            Finish<TV, V>(a4, bias + f + 4, y + 4 * (long)plane, rectify);
            Finish<TV, V>(a5, bias + f + 5, y + 5 * (long)plane, rectify);
            Finish<TV, V>(a6, bias + f + 6, y + 6 * (long)plane, rectify);
            Finish<TV, V>(a7, bias + f + 7, y + 7 * (long)plane, rectify);
        }
        for (; f < filters; f++, y += plane)
        {
            var acc = V.Zero;
            float* w = weights + f * taps;
            for (int q = 0; q < taps; q++) acc = V.MultiplyAdd(V.Broadcast(w + q), V.Load(s + offsets[q]), acc);
            Finish<TV, V>(acc, bias + f, y, rectify);
        }
    }

    /// <summary>Stores acc + bias, rectified where asked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TV, V>(TV acc, float* bias, float* y, bool rectify) where TV : struct where V : struct, IFloatVectors<TV>
    {
        acc = V.Add(acc, V.Broadcast(bias));
        if (rectify) acc = V.Rectified(acc);
        V.Store(acc, y);
    }

    /// <summary><see cref="Pixels{TV, V}"/> for one position (a plane's last few).</summary>
    private static void Pixel(float* s, int* offsets, int taps, float* weights, float* bias, int filters, float* y, int plane, bool rectify)
    {
        for (int f = 0; f < filters; f++, weights += taps, y += plane)
        {
            float acc = 0f;
            for (int q = 0; q < taps; q++) acc = MathF.FusedMultiplyAdd(weights[q], s[offsets[q]], acc);
            acc += bias[f];
            *y = rectify ? Rectified(acc) : acc;
        }
    }

    /// <summary>max(0, v) as TensorPrimitives.Max(v, 0) gives it: NaN stays NaN, −0 and negatives become +0.</summary>
    private static float Rectified(float v) => v > 0f || float.IsNaN(v) ? v : 0f;

    /// <summary>
    /// The plain version of <see cref="Forward"/>, output by output, in the same order of operations (so the same bits):
    /// the reference the tests hold the vector kernels to.
    /// </summary>
    internal static void ForwardReference(ReadOnlySpan<float> x, int images, int h, int w, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        int filters, int kh, int kw, int pad, Span<float> y, bool rectify)
    {
        int oh = ConvShape.OutputSize(h, kh, 1, pad), ow = ConvShape.OutputSize(w, kw, 1, pad);
        for (int i = 0; i < images; i++)
            for (int f = 0; f < filters; f++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        float acc = 0f;
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int yy = oy + ky - pad, xx = ox + kx - pad;
                                float v = yy >= 0 && yy < h && xx >= 0 && xx < w ? x[(i * h + yy) * w + xx] : 0f;
                                acc = MathF.FusedMultiplyAdd(weights[f * kh * kw + ky * kw + kx], v, acc);
                            }
                        acc += bias[f];
                        y[((i * filters + f) * oh + oy) * ow + ox] = rectify ? Rectified(acc) : acc;
                    }
    }

    /// <summary>
    /// The weight and bias gradients of a batch (the input gradient is not needed for a first layer): with
    /// g = dout, passed only where the output <paramref name="y"/> is &gt; 0 when <paramref name="gate"/> (a ReLU fused
    /// into the layer), dWᵀ[(ky, kx), f] += Σ_{i, p} g[i, f, p] · S_kx[i][p + ky·OW] and db[f] += Σ_{i, p} g[i, f, p]:
    /// gating, both sums and the shifted reads in one pass over dout, image by image (dout and y are read in order, as
    /// they lie in memory). Each sum runs along the positions in lanes (16 with <paramref name="wide"/>, else 8; a
    /// plane's last few one by one), images in order, then across the lanes. db is summed in 8 lanes either way, so
    /// it has the same bits on both widths; dW's lanes fall differently.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dout, ReadOnlySpan<float> y, bool gate, int images, int h, int w,
        int filters, int kh, int kw, int pad, Span<float> dWt, Span<float> db, bool wide)
    {
        int oh = ConvShape.OutputSize(h, kh, 1, pad), ow = ConvShape.OutputSize(w, kw, 1, pad), taps = kh * kw, plane = oh * ow;
        if (images < 1 || x.Length < images * h * w || dout.Length < images * filters * plane || (gate && y.Length < images * filters * plane)
            || dWt.Length < taps * filters || db.Length < filters)
            throw new ArgumentException("single-channel convolution: a buffer is too small for the geometry");
        int shiftedSize = ShiftedSize(oh, ow, kh, kw), planeRows = (oh + kh - 1) * ow;
        var s = ShiftedBuffer(shiftedSize);
        // Taps in groups of 9, each group's 9 sums in registers while a plane is read; a last short group repeats its
        // first tap and drops it. Between planes the sums wait in a state per (filter, group).
        int groups = (taps + TapGroup - 1) / TapGroup;
        var states = t_states is { } kept && kept.Length >= filters * groups ? kept : t_states = new Sums[filters * groups];
        states.AsSpan(0, filters * groups).Clear();
        int* offsets = stackalloc int[groups * TapGroup];
        for (int g = 0; g < groups; g++)
            for (int t = 0; t < TapGroup; t++)
            {
                int q = g * TapGroup + (g * TapGroup + t < taps ? t : 0);
                offsets[g * TapGroup + t] = q % kw * planeRows + q / kw * ow;
            }
        fixed (float* ps = s) fixed (float* pd = dout) fixed (float* pyy = y) fixed (Sums* state = states)
            for (int i = 0; i < images; i++)
            {
                Shift(x.Slice(i * h * w, h * w), h, w, kh, kw, pad, oh, ow, s);
                for (int f = 0; f < filters; f++)
                {
                    long at = ((long)i * filters + f) * plane;
                    for (int g = 0; g < groups; g++)
                        Correlate(ps, pd + at, gate ? pyy + at : null, plane, offsets + g * TapGroup, ref state[f * groups + g], wide);
                }
            }
        float* sums = stackalloc float[TapGroup + 1];
        for (int f = 0; f < filters; f++)
            for (int g = 0; g < groups; g++)
            {
                states[f * groups + g].Total(sums);
                for (int t = 0; t < TapGroup && g * TapGroup + t < taps; t++) dWt[(g * TapGroup + t) * filters + f] += sums[t];
                if (g == 0) db[f] += sums[TapGroup];
            }
    }

    /// <summary>Taps whose sums one pass of <see cref="Correlate"/> keeps in registers (a 3×3 filter's all).</summary>
    private const int TapGroup = 9;

    [ThreadStatic] private static Sums[]? t_states;

    /// <summary>
    /// One (filter, tap group)'s running sums between planes: each tap's in 16 lanes (the wide loop), 8 lanes and one
    /// by one (a plane's tail), and db's in 8 lanes and one by one.
    /// </summary>
    private struct Sums
    {
        public TapSums<Vector512<float>> Wide;
        public TapSums<Vector256<float>> Narrow;
        public Vector256<float> Bias;
        public float T0, T1, T2, T3, T4, T5, T6, T7, T8, TBias;

        /// <summary>sums[t] = tap t's total, sums[9] = db's: the wide lanes folded onto the narrow ones, across the lanes, then the tail.</summary>
        public readonly void Total(float* sums)
        {
            sums[0] = Add(Wide.S0, Narrow.S0, T0); sums[1] = Add(Wide.S1, Narrow.S1, T1); sums[2] = Add(Wide.S2, Narrow.S2, T2);
            sums[3] = Add(Wide.S3, Narrow.S3, T3); sums[4] = Add(Wide.S4, Narrow.S4, T4); sums[5] = Add(Wide.S5, Narrow.S5, T5);
            sums[6] = Add(Wide.S6, Narrow.S6, T6); sums[7] = Add(Wide.S7, Narrow.S7, T7); sums[8] = Add(Wide.S8, Narrow.S8, T8);
            sums[9] = Sum(Bias) + TBias;
        }

        private static float Add(Vector512<float> wide, Vector256<float> narrow, float tail) => Sum(wide.GetLower() + wide.GetUpper() + narrow) + tail;
    }

    /// <summary>A tap group's 9 sums in vectors of one width.</summary>
    private struct TapSums<TV> where TV : struct
    {
        public TV S0, S1, S2, S3, S4, S5, S6, S7, S8;
    }

    /// <summary>
    /// Adds one plane to <paramref name="state"/>: Σ_p g[p] · s[offsets[t] + p] for the 9 taps t, and Σ_p g[p], over
    /// <paramref name="plane"/> positions; g = d, or d where y &gt; 0 (0 elsewhere). 16 positions a step where
    /// <paramref name="wide"/>, then 8, then one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Correlate(float* s, float* d, float* y, int plane, int* offsets, ref Sums state, bool wide)
    {
        int o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5], o6 = offsets[6], o7 = offsets[7], o8 = offsets[8];
        int p = 0;
        // The sums go to the loop as copies in locals: given refs into state, the JIT kept their addresses in a
        // spilled register and more offsets spilled out of the 8-lane loop.
        if (wide && plane >= 16)
        {
            var sums = state.Wide; var bias = state.Bias;
            p = Correlate<Vector512<float>, Float16>(s, d, y, p, plane, o0, o1, o2, o3, o4, o5, o6, o7, o8, ref sums, ref bias);
            state.Wide = sums; state.Bias = bias;
        }
        if (p + 8 <= plane)
        {
            var sums = state.Narrow; var bias = state.Bias;
            p = Correlate<Vector256<float>, Float8>(s, d, y, p, plane, o0, o1, o2, o3, o4, o5, o6, o7, o8, ref sums, ref bias);
            state.Narrow = sums; state.Bias = bias;
        }
        for (; p < plane; p++)
        {
            float g = d[p];
            if (y is not null && !(y[p] > 0f)) g = 0f;
            float* sp = s + p;
            state.T0 = MathF.FusedMultiplyAdd(g, sp[o0], state.T0); state.T1 = MathF.FusedMultiplyAdd(g, sp[o1], state.T1);
            state.T2 = MathF.FusedMultiplyAdd(g, sp[o2], state.T2); state.T3 = MathF.FusedMultiplyAdd(g, sp[o3], state.T3);
            state.T4 = MathF.FusedMultiplyAdd(g, sp[o4], state.T4); state.T5 = MathF.FusedMultiplyAdd(g, sp[o5], state.T5);
            state.T6 = MathF.FusedMultiplyAdd(g, sp[o6], state.T6); state.T7 = MathF.FusedMultiplyAdd(g, sp[o7], state.T7);
            state.T8 = MathF.FusedMultiplyAdd(g, sp[o8], state.T8);
            state.TBias += g;
        }
    }

    /// <summary>
    /// <see cref="Correlate(float*, float*, float*, int, int*, ref Sums, bool)"/>'s vector loop on one width, from
    /// position <paramref name="p"/> while a whole vector fits; returns where it stopped. db stays in 8 lanes either
    /// way (<see cref="IFloatVectors{TV}.AddHalves"/>), so its bits do not depend on the width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Correlate<TV, V>(float* s, float* d, float* y, int p, int plane, int o0, int o1, int o2, int o3, int o4, int o5, int o6,
        int o7, int o8, ref TapSums<TV> sums, ref Vector256<float> bias) where TV : struct where V : struct, IFloatVectors<TV>
    {
        TV w0 = sums.S0, w1 = sums.S1, w2 = sums.S2, w3 = sums.S3, w4 = sums.S4, w5 = sums.S5, w6 = sums.S6, w7 = sums.S7, w8 = sums.S8;
        var b = bias;
        for (; p + V.Count <= plane; p += V.Count)
        {
            var g = V.Load(d + p);
            if (y is not null) g = V.WherePositive(g, V.Load(y + p));
            float* sp = s + p;
            w0 = V.MultiplyAdd(g, V.Load(sp + o0), w0);
            w1 = V.MultiplyAdd(g, V.Load(sp + o1), w1);
            w2 = V.MultiplyAdd(g, V.Load(sp + o2), w2);
            w3 = V.MultiplyAdd(g, V.Load(sp + o3), w3);
            w4 = V.MultiplyAdd(g, V.Load(sp + o4), w4);
            w5 = V.MultiplyAdd(g, V.Load(sp + o5), w5);
            w6 = V.MultiplyAdd(g, V.Load(sp + o6), w6);
            w7 = V.MultiplyAdd(g, V.Load(sp + o7), w7);
            w8 = V.MultiplyAdd(g, V.Load(sp + o8), w8);
            b = V.AddHalves(b, g);
        }
        sums.S0 = w0; sums.S1 = w1; sums.S2 = w2; sums.S3 = w3; sums.S4 = w4; sums.S5 = w5; sums.S6 = w6; sums.S7 = w7; sums.S8 = w8;
        bias = b;
        return p;
    }

    /// <summary>The 8 lanes' sum in a fixed order (halves, then pairs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum(Vector256<float> v)
    {
        var q = v.GetLower() + v.GetUpper();
        return q.GetElement(0) + q.GetElement(2) + (q.GetElement(1) + q.GetElement(3));
    }
}
