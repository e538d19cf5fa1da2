"""Which BLAS a peer (NumPy or PyTorch) really runs, and a refusal to compare against netlib's reference BLAS.

Debian's python3-numpy and python3-torch link libblas.so.3, whichever library the alternatives system points it at.
On a fresh install that can be netlib's reference implementation (package libblas3): correct, but 30-100x slower
than a tuned BLAS, so a comparison against it flatters ZeroDL. The fix is `apt-get install libopenblas0-pthread`.

The library is read off the process itself: the file that defines the sgemm the peer's own extension binds
(dlsym from the extension's handle, then dladdr), asked through ctypes for OpenBLAS's own version, kernel and
threads. threadpoolctl is not needed: it lists every mapped BLAS, including one the peer does not multiply with.

OpenBLAS picks its kernel from the CPU's family and model, and a release older than the CPU does not know the model:
OpenBLAS 0.3.21 runs its SSE3 kernel (Prescott) on a 5th-generation Xeon with AVX-512, about 5x slower than its
AVX-512 one. A comparison against that flatters ZeroDL as much as the reference BLAS does, so a kernel narrower than
the CPU's vectors is refused too, unless OPENBLAS_CORETYPE chose it. `coretype` names the kernel to set instead.

Usage: peer_blas.py numpy|torch   prints one '# ...' line naming the peer and its BLAS (and for PyTorch its oneDNN
and CPU capability); exits 3 with the fix on stderr when the BLAS is the reference one, OpenBLAS picked a kernel
narrower than the CPU's vectors by itself, or no BLAS entry point is found.
       peer_blas.py coretype        prints the OPENBLAS_CORETYPE the peers need on this CPU (Cooperlake, SkylakeX or
Haswell), or nothing when OpenBLAS's own choice already uses the CPU's widest vectors (bench/peer-env.sh).
As a module: require("numpy") returns that line or raises SystemExit(3)."""
import ctypes
import os
import sys

REFUSAL_EXIT = 3
FIX = "install a tuned BLAS: apt-get install libopenblas0-pthread (Debian)"

# OpenBLAS's x86-64 kernels by the widest vectors they multiply with (openblas_get_corename, lower-cased); any other
# name (Prescott, Nehalem, Sandybridge, ...) multiplies with 128- or 256-bit vectors without FMA.
VECTOR_BITS = {"skylakex": 512, "cooperlake": 512, "sapphirerapids": 512, "haswell": 256, "zen": 256}


def cpu_flags(path="/proc/cpuinfo"):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def best_coretype(flags):
    """(kernel, bits): the OpenBLAS kernel for this CPU's widest vectors, or (None, 0) where no FMA kernel fits."""
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return ("Cooperlake" if "avx512_bf16" in flags else "SkylakeX"), 512
    if {"avx2", "fma"} <= flags:
        return "Haswell", 256
    return None, 0


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def bound_library(module_path, symbol):
    """The file that defines the BLAS entry point <symbol> as the shared object <module_path> binds it: looked up
    from that object's handle (itself, then its dependencies in load order, as the loader binds them) and named by
    dladdr. Merely mapped libraries do not count: a Debian NumPy on the reference BLAS still maps OpenBLAS through
    LAPACK, while its products run the reference sgemm."""
    libc = ctypes.CDLL(None)
    libc.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    try:
        function = getattr(ctypes.CDLL(module_path), symbol)
    except (OSError, AttributeError):
        return None
    info = _DlInfo()
    if libc.dladdr(ctypes.cast(function, ctypes.c_void_p), ctypes.byref(info)) == 0 or not info.dli_fname:
        return None
    return info.dli_fname.decode()


def identify(path):
    """(kind, text) for one mapped library: kind is 'openblas', 'reference', or 'other'."""
    real = os.path.realpath(path)
    try:
        lib = ctypes.CDLL(real)
    except OSError as e:
        return "other", f"{real} (cannot be opened: {e})"
    if hasattr(lib, "openblas_get_config"):
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        config = lib.openblas_get_config().decode(errors="replace").strip()
        core = lib.openblas_get_corename().decode(errors="replace")
        threads = lib.openblas_get_num_threads() if hasattr(lib, "openblas_get_num_threads") else "?"
        forced = os.environ.get("OPENBLAS_CORETYPE")
        chosen = f"kernel {core}, set by OPENBLAS_CORETYPE" if forced else f"kernel {core}"
        return "openblas", f"OpenBLAS ({config}; {chosen}; {threads} threads) {real}"
    if hasattr(lib, "bli_info_get_version_str"):
        lib.bli_info_get_version_str.restype = ctypes.c_char_p
        return "other", f"BLIS {lib.bli_info_get_version_str().decode(errors='replace')} {real}"
    if hasattr(lib, "mkl_get_max_threads"):
        return "other", f"Intel MKL {real}"
    # A libblas exporting sgemm_ but none of the tuned libraries' entry points: netlib's reference Fortran BLAS.
    if hasattr(lib, "sgemm_"):
        return "reference", f"the reference BLAS (netlib) {real}"
    return "other", real


def torch_details(torch):
    text = torch.__config__.show()
    details = []
    for line in text.splitlines():
        line = line.strip(" -")
        if line.startswith("Intel(R) MKL-DNN") or line.startswith("Intel(R) oneDNN") or line.startswith("CPU capability"):
            details.append(line.split(" (Git")[0])
    return "; ".join(details)


def openblas_core(library):
    """The kernel name OpenBLAS runs in this process, or None for another BLAS."""
    try:
        lib = ctypes.CDLL(os.path.realpath(library))
    except OSError:
        return None
    if not hasattr(lib, "openblas_get_corename"):
        return None
    lib.openblas_get_corename.restype = ctypes.c_char_p
    return lib.openblas_get_corename().decode(errors="replace")


def narrower_than_cpu(core):
    """The fix when OpenBLAS's kernel <core> uses narrower vectors than the CPU has, else None."""
    kernel, bits = best_coretype(cpu_flags())
    if kernel is None or VECTOR_BITS.get(core.lower(), 128) >= bits:
        return None
    return kernel


def peer_library(peer):
    """(header, library, module, symbol): the peer's name and version, the file defining the sgemm it binds (None if
    none), and the module and symbol it was looked up from."""
    if peer == "numpy":
        import numpy
        header = f"# NumPy {numpy.__version__}"
        from numpy.core import _multiarray_umath
        module_path, symbol = _multiarray_umath.__file__, "cblas_sgemm"
    elif peer == "torch":
        import torch
        header = f"# PyTorch {torch.__version__} ({torch_details(torch)})"
        module_path = os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so")
        if not os.path.exists(module_path):
            module_path = torch._C.__file__
        symbol = "sgemm_"
    else:
        raise SystemExit(f"peer_blas.py: unknown peer '{peer}': use numpy or torch")
    return header, bound_library(module_path, symbol), module_path, symbol


def require(peer):
    """The peer's '# ...' line; SystemExit(3) with the fix when its BLAS is the reference one, an OpenBLAS kernel
    narrower than the CPU's vectors that OPENBLAS_CORETYPE did not ask for, or unknown."""
    header, library, module_path, symbol = peer_library(peer)
    if library is None:
        print(f"refusing to compare: cannot tell which BLAS {header[2:]} runs (no {symbol} reachable from "
              f"{module_path}); {FIX}", file=sys.stderr)
        raise SystemExit(REFUSAL_EXIT)
    kind, text = identify(library)
    if kind == "reference":
        print(f"refusing to compare: {header[2:]} runs {text}, 30-100x slower than a tuned BLAS; {FIX}", file=sys.stderr)
        raise SystemExit(REFUSAL_EXIT)
    core = openblas_core(library) if kind == "openblas" else None
    wider = narrower_than_cpu(core) if core and not os.environ.get("OPENBLAS_CORETYPE") else None
    if wider:
        print(f"refusing to compare: {header[2:]} runs OpenBLAS's {core} kernel, narrower than this CPU's vectors "
              f"(this OpenBLAS does not know the CPU's model); run it with OPENBLAS_CORETYPE={wider}, "
              f"as the bench scripts do (bench/peer-env.sh)", file=sys.stderr)
        raise SystemExit(REFUSAL_EXIT)
    return f"{header}, BLAS: {text}"


def coretype():
    """The OPENBLAS_CORETYPE the peers need here, or "" when OpenBLAS's own choice fits the CPU (or no peer has
    OpenBLAS). Asked of the first peer that imports, in a process started without OPENBLAS_CORETYPE."""
    for peer in ("numpy", "torch"):
        try:
            _, library, _, _ = peer_library(peer)
        except ImportError:
            continue
        core = openblas_core(library) if library else None
        if core:
            return narrower_than_cpu(core) or ""
    return ""


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: peer_blas.py numpy|torch|coretype", file=sys.stderr)
        sys.exit(2)
    if sys.argv[1] == "coretype":
        os.environ.pop("OPENBLAS_CORETYPE", None)
        print(coretype())
    else:
        print(require(sys.argv[1]))
