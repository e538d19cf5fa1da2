namespace ZeroDL.Serialization.Onnx;

/// <summary>
/// The conventions of the ONNX files ZeroDL writes and the limits of those it reads (docs/onnx.md): the opset, the
/// names of the graph's input and output, and the metadata keys that carry what the graph itself does not.
/// </summary>
public static class OnnxFormat
{
    /// <summary>
    /// The opset of the default domain ZeroDL writes: 13, the first whose Softmax normalises over one axis (the class
    /// axis) rather than over everything after it, and old enough that ONNX Runtime and OpenCV read every operator used.
    /// </summary>
    public const int Opset = 13;

    /// <summary>The IR version written: 7, the one that opset 13 was released with.</summary>
    public const long IrVersion = 7;

    /// <summary>The graph's input: a batch (N, …input shape) of prepared samples, N left dynamic.</summary>
    public const string InputName = "input";

    /// <summary>The graph's output: (N, classes) class probabilities, the softmax of the network's scores.</summary>
    public const string OutputName = "probabilities";

    /// <summary>The symbolic name of the dynamic batch dimension.</summary>
    public const string BatchDimension = "N";

    /// <summary>metadata_props key holding the class names in output order, as a JSON array of strings.</summary>
    public const string ClassesKey = "zerodl.classes";

    /// <summary>
    /// metadata_props key holding how raw pixels become the graph's input, as a model file stores it:
    /// <c>{"pixel_scale":255,"mean":[…],"std":[…]}</c>, i.e. input = (pixel / pixel_scale − mean[c]) / std[c].
    /// </summary>
    public const string NormalizationKey = "zerodl.normalization";

    /// <summary>metadata_props key holding the exported network's ZeroDL architecture JSON (informative; import reads the graph).</summary>
    public const string ArchitectureKey = "zerodl.architecture";

    /// <summary>
    /// The lowest default-domain opset read: 9, from which BatchNormalization has no "spatial" attribute and the
    /// operators ZeroDL imports keep the meaning they have today.
    /// </summary>
    public const int MinImportOpset = 9;

    /// <summary>
    /// The highest default-domain opset read: 23. Every operator ZeroDL imports has kept its inference meaning through
    /// it; a newer file is refused rather than read under rules this ZeroDL does not know.
    /// </summary>
    public const int MaxImportOpset = 23;

    /// <summary>
    /// The most nodes (and, separately, initializers) a graph may have: 8,192, eight per layer of the largest network
    /// ZeroDL builds (<see cref="Models.Architecture.MaxLayers"/>); a layer takes at most three nodes and a constant or two.
    /// </summary>
    public const int MaxNodes = 8 * Models.Architecture.MaxLayers;
}
