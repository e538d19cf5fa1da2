using System.Runtime.InteropServices;

namespace ZeroDL.Distributed;

/// <summary>
/// A small binding to Open MPI's C API (<c>libmpi.so.40</c>, Debian's <c>openmpi-bin</c>): init and finalize, rank
/// and size, barrier, broadcast, allreduce (sum) of float32 and float64, and abort. It targets Open MPI only: there
/// a communicator, a datatype or an operation is the address of an exported global (<c>ompi_mpi_comm_world</c>,
/// <c>ompi_mpi_float</c>, <c>ompi_mpi_op_sum</c>, …), resolved here with <see cref="NativeLibrary.GetExport"/>;
/// MPICH's handles are integers, and its library is another file. No native code of ours is involved.
/// <para>
/// Every collective runs under a watchdog: one that has not returned after <see cref="CollectiveTimeout"/> (a rank
/// died without MPI noticing, or the ranks disagree on what to call) aborts the whole job with a message, so a
/// distributed run never hangs forever.
/// </para>
/// </summary>
public sealed unsafe class OpenMpi : ICommunicator, IDisposable
{
    private const string Library = "libmpi.so.40";
    private const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED: one thread at a time calls MPI (the training thread)
    private static readonly nint InPlace = 1; // Open MPI's MPI_IN_PLACE

    private readonly nint _library, _world, _float, _double, _sum;
    private readonly delegate* unmanaged<int*, nint*, int, int*, int> _initThread;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<nint, int*, int> _rank, _size;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, void*, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly Timer _watchdog;
    /// <summary>The collective <see cref="_watchdog"/> watches (the name it reports).</summary>
    private volatile string _watched = "";
    private bool _finalized;

    private OpenMpi(nint library, TimeSpan timeout)
    {
        _library = library;
        CollectiveTimeout = timeout;
        // One timer for the process's life, armed around each collective: a new one a call would allocate every mini-batch.
        _watchdog = new Timer(_ => TimedOut(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _world = Export("ompi_mpi_comm_world");
        _float = Export("ompi_mpi_float");
        _double = Export("ompi_mpi_double");
        _sum = Export("ompi_mpi_op_sum");
        _initThread = (delegate* unmanaged<int*, nint*, int, int*, int>)Export("MPI_Init_thread");
        _finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        _rank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        _size = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        _barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        _bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        _allreduce = (delegate* unmanaged<nint, void*, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        _abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");

        int provided;
        Check(_initThread(null, null, ThreadSerialized, &provided), "MPI_Init_thread");
        int rank, size;
        Check(_rank(_world, &rank), "MPI_Comm_rank");
        Check(_size(_world, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    /// <summary>
    /// Whether this process was started by Open MPI's <c>mpirun</c> (it sets <c>OMPI_COMM_WORLD_SIZE</c>): only then
    /// does <see cref="Initialize"/> join a job of several ranks.
    /// </summary>
    public static bool LaunchedByMpirun => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null;

    /// <summary>
    /// Loads Open MPI and initialises MPI (once per process). Throws <see cref="DllNotFoundException"/> with the
    /// package to install when <c>libmpi.so.40</c> cannot be loaded.
    /// </summary>
    public static OpenMpi Initialize(TimeSpan collectiveTimeout)
    {
        if (!NativeLibrary.TryLoad(Library, out nint library))
            throw new DllNotFoundException($"Open MPI's {Library} could not be loaded: install Open MPI (Debian: apt-get install openmpi-bin) and start the ranks with mpirun");
        return new OpenMpi(library, collectiveTimeout);
    }

    public int Rank { get; }
    public int Size { get; }
    /// <summary>How long one collective may take before the job is aborted.</summary>
    public TimeSpan CollectiveTimeout { get; }

    public void Barrier()
    {
        using var watch = Watch("MPI_Barrier");
        Check(_barrier(_world), "MPI_Barrier");
    }

    public void Broadcast(Span<float> values, int root)
    {
        using var watch = Watch("MPI_Bcast");
        fixed (float* p = values) Check(_bcast(p, values.Length, _float, root, _world), "MPI_Bcast");
    }

    public void Broadcast(Span<double> values, int root)
    {
        using var watch = Watch("MPI_Bcast");
        fixed (double* p = values) Check(_bcast(p, values.Length, _double, root, _world), "MPI_Bcast");
    }

    public void AllReduceSum(Span<float> values)
    {
        using var watch = Watch("MPI_Allreduce");
        fixed (float* p = values) Check(_allreduce(InPlace, p, values.Length, _float, _sum, _world), "MPI_Allreduce");
    }

    public void AllReduceSum(Span<double> values)
    {
        using var watch = Watch("MPI_Allreduce");
        fixed (double* p = values) Check(_allreduce(InPlace, p, values.Length, _double, _sum, _world), "MPI_Allreduce");
    }

    /// <summary>Ends every rank of the job with <paramref name="code"/> (MPI_Abort): the way out when ranks can no longer agree.</summary>
    public void Abort(int code) => _abort(_world, code);

    public void Dispose()
    {
        if (_finalized) return;
        _finalized = true;
        _watchdog.Dispose();
        _finalize();
    }

    private nint Export(string name) => NativeLibrary.GetExport(_library, name);

    private static void Check(int code, string call)
    {
        // Open MPI's default error handler aborts the job on an error, so a code other than MPI_SUCCESS is rare here.
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }

    /// <summary>Arms the watchdog for one collective, until the returned value is disposed.</summary>
    private Watching Watch(string call)
    {
        _watched = call;
        _watchdog.Change(CollectiveTimeout, Timeout.InfiniteTimeSpan);
        return new Watching(_watchdog);
    }

    /// <summary>A collective still running after the timeout: say so and abort the job.</summary>
    private void TimedOut()
    {
        Console.Error.WriteLine($"rank {Rank}: {_watched} did not complete in {CollectiveTimeout.TotalSeconds:0} s (a rank died or the ranks disagree); aborting the job");
        Console.Error.Flush();
        _abort(_world, 4);
    }

    /// <summary>Disarms the watchdog when the collective returns (a struct: the using allocates nothing).</summary>
    private readonly struct Watching(Timer watchdog) : IDisposable
    {
        public void Dispose() => watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }
}
