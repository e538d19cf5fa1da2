namespace ZeroDL.Web;

/// <summary>
/// What one training request from the web app may cost. A request could ask for {"model": "deepconv", "epochs": 100}
/// (hours of every core), and every run wrote a model file with no bound (issue 18); these bound both.
/// </summary>
public sealed record TrainingLimits
{
    /// <summary>
    /// Most epochs a run may ask for: 20, the longest preset's own schedule (simpleconv, deepconv, deepconv-aug), so
    /// that every preset can train as designed and no request asks for more.
    /// </summary>
    public int MaxEpochs { get; init; } = 20;

    /// <summary>
    /// Most trainable parameters of the network a run builds for its data: 2,000,000, three times the largest preset on
    /// MNIST (dense, 671,754). A preset grows with its input, so a dense network on a folder of large colour images can
    /// exceed it and is refused; the bound keeps a run's weights, gradients and Adam moments (16 bytes a parameter)
    /// near 32 MB.
    /// </summary>
    public long MaxParameters { get; init; } = 2_000_000;

    /// <summary>
    /// Longest a run may train: 1 hour, after which it stops at the end of its mini-batch as if cancelled (the last
    /// finished epoch stays saved) and says why. Twenty epochs of DeepConvNet on MNIST take about that on two cores.
    /// </summary>
    public TimeSpan MaxRunTime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Most bytes the models trained from the web app and the checkpoints of their runs (files web-*.safetensors and
    /// web-*.ckpt in the models folder) may take together: 200 MiB, about 30 DeepConvNet or 75 dense models (a run's
    /// checkpoint is its model plus the optimizer's state: three times the model with Adam). After each save the
    /// oldest of them are deleted until the rest fit, except the server's default model and the files of the run
    /// that is saving.
    /// </summary>
    public long MaxModelBytes { get; init; } = 200L << 20;
}
