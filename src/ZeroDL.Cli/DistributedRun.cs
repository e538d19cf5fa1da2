using System.Security.Cryptography;
using System.Text;
using ZeroDL.Distributed;

namespace ZeroDL.Cli;

/// <summary>
/// zerodl train --distributed: this process as one rank of an Open MPI job (<c>mpirun -np N zerodl train
/// --distributed …</c>). Rank 0 prints and writes every file; the other ranks train silently. The ranks first check
/// that they were all given the same options, so that a job of mismatched ranks stops at once with one message
/// instead of training different things.
/// </summary>
internal sealed class DistributedRun : IDisposable
{
    /// <summary>
    /// How long one collective may wait for the other ranks before the job is aborted, unless --collective-timeout
    /// says otherwise: well above an epoch's end (where rank 0 may write files while the others wait at the next
    /// allreduce), well below forever.
    /// </summary>
    public const int DefaultCollectiveTimeoutSeconds = 600;

    private readonly TextWriter? _stdout;
    private bool _finished;

    private DistributedRun(OpenMpi mpi)
    {
        Mpi = mpi;
        if (!IsRoot) { _stdout = Console.Out; Console.SetOut(TextWriter.Null); }
    }

    public OpenMpi Mpi { get; }
    public bool IsRoot => Mpi.Rank == 0;

    /// <summary>Threads per rank when --threads is not given: the cores divided among the ranks on this machine.</summary>
    public static int ThreadsPerRank =>
        Math.Max(1, Environment.ProcessorCount / Math.Max(1, int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out int local) ? local : 1));

    /// <summary>
    /// Joins the MPI job when <paramref name="distributed"/> (null otherwise), each collective allowed
    /// <paramref name="collectiveTimeout"/> before the job is aborted.
    /// </summary>
    public static DistributedRun? Start(bool distributed, TimeSpan collectiveTimeout)
    {
        if (!distributed)
        {
            // Ranks that would each train the whole run alone and write the same files: never what mpirun was for.
            if (int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE"), out int size) && size > 1)
                throw new UsageException($"this process is one of {size} ranks started by mpirun: give --distributed to train together, or start one process without mpirun");
            return null;
        }
        if (!OpenMpi.LaunchedByMpirun)
            throw new UsageException("--distributed runs each rank under Open MPI's mpirun, e.g. mpirun -np 2 zerodl train --distributed …");
        try { return new DistributedRun(OpenMpi.Initialize(collectiveTimeout)); }
        catch (DllNotFoundException e) { throw new UsageException(e.Message); }
    }

    /// <summary>
    /// Stops every rank with a usage error unless all were given the same options and loaded the same data: rank 0
    /// broadcasts a digest of each, every rank compares, and one allreduce counts the ranks that differ. The data are
    /// compared too because each rank reads its own copy (on its own machine, or a relative --data in its own working
    /// directory): other images would train the ranks on a mix, another count would have them take other numbers of
    /// steps and wait on each other. So is the checkpoint resumed (<paramref name="resumed"/>, its file's path, or
    /// null), which each rank reads itself: another one starts the ranks at other iterations.
    /// </summary>
    public void CheckSameRun(IEnumerable<string> args, IEnumerable<byte[]> dataHashes, string? resumed)
    {
        byte[] checkpoint;
        using (var file = resumed is null ? null : File.OpenRead(resumed)) checkpoint = file is null ? [] : SHA256.HashData(file);
        double[] differing =
        [
            Differs(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', args)))),
            Differs(SHA256.HashData(dataHashes.SelectMany(h => h).ToArray())),
            Differs(SHA256.HashData(checkpoint)),
        ];
        Mpi.AllReduceSum(differing);
        if (differing[0] > 0)
            throw new UsageException($"{differing[0]} of {Mpi.Size} ranks were given other options than rank 0: every rank of --distributed must get the same command line");
        if (differing[1] > 0)
            throw new UsageException($"{differing[1]} of {Mpi.Size} ranks loaded other data than rank 0 under the same options: every rank of --distributed must read the same training and test images");
        if (differing[2] > 0)
            throw new UsageException($"{differing[2]} of {Mpi.Size} ranks resumed another checkpoint than rank 0's: every rank of --distributed must --resume the same file");
    }

    /// <summary>1 if this rank's <paramref name="hash"/> is not rank 0's, else 0 (a broadcast every rank takes part in).</summary>
    private double Differs(byte[] hash)
    {
        var digest = new double[hash.Length / 4];
        for (int i = 0; i < digest.Length; i++) digest[i] = BitConverter.ToUInt32(hash, 4 * i); // exact in a double
        var root = (double[])digest.Clone();
        Mpi.Broadcast(root, root: 0);
        return root.AsSpan().SequenceEqual(digest) ? 0 : 1;
    }

    /// <summary>Ends this rank's part of a run that succeeded: MPI is finalised, which every rank does together.</summary>
    public void Finish() => _finished = true;

    /// <summary>
    /// Ends this rank's part of a run a signal stopped (every rank stopped after the same mini-batch, Trainer agrees
    /// on it): the ranks wait here for rank 0 to have written its files, then finalise MPI together. A rank that left
    /// at once would have mpirun end the job (SIGTERM, then SIGKILL a second later) while rank 0 still writes.
    /// </summary>
    public void StopTogether()
    {
        Mpi.Barrier();
        _finished = true;
    }

    /// <summary>
    /// After <see cref="Finish"/> or <see cref="StopTogether"/>, finalises MPI. Otherwise (an error, a divergence) it leaves MPI as it is:
    /// the process exits with its error code and message, and mpirun, seeing a rank end without finalising, stops
    /// the others at once rather than letting them wait for it.
    /// </summary>
    public void Dispose()
    {
        if (_stdout is not null) Console.SetOut(_stdout);
        if (_finished) Mpi.Dispose();
    }
}
