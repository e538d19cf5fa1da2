namespace ZeroDL.Web;

/// <summary>
/// A checkpoint of a web training run found in the models folder that no run of this server is training now, as
/// GET /api/train/interrupted lists it.
/// </summary>
/// <param name="Id">The run's model name (the checkpoint's file name without <c>.ckpt</c>): what POST /api/train/interrupted/{id}/resume takes.</param>
/// <param name="Status">
/// "interrupted" (the run stopped before its end: server stopped, cancelled, time limit, an error; it can be resumed),
/// "diverged" (its last mini-batch went NaN: the checkpoint is the last good state, and resuming would only diverge
/// again at the same iteration, so it is not offered) or "unusable" (the file cannot be read as a web run's checkpoint:
/// <paramref name="Reason"/> says why).
/// </param>
/// <param name="Reason">Why it cannot be resumed (the divergence message, or what is wrong with the file); null when it can.</param>
/// <param name="Request">The request the run was started with; null when unusable.</param>
/// <param name="Epoch">Epochs finished.</param>
/// <param name="Epochs">Epochs the run was asked for.</param>
/// <param name="Iteration">Mini-batches done.</param>
/// <param name="Iterations">Mini-batches of the whole run.</param>
/// <param name="TrainAccuracy">The last finished epoch's training accuracy; null before the first epoch ended.</param>
/// <param name="TestAccuracy">The last finished epoch's test accuracy; null before the first epoch ended or without a test split.</param>
/// <param name="Saved">When the checkpoint was written (UTC).</param>
public sealed record InterruptedRun(string Id, string Status, string? Reason, TrainingRequest? Request, int Epoch, int Epochs, int Iteration, int Iterations,
    double? TrainAccuracy, double? TestAccuracy, DateTime Saved)
{
    /// <summary>Whether POST /api/train/interrupted/{id}/resume can continue it.</summary>
    public bool Resumable => Status == InterruptedStatus;

    public const string InterruptedStatus = "interrupted", DivergedStatus = "diverged", UnusableStatus = "unusable";
}
