"""Which BLAS a peer (NumPy or PyTorch) really runs, and a refusal to compare against netlib's reference BLAS.

Debian's python3-numpy and python3-torch link libblas.so.3, whichever library the alternatives system points it at.
On a fresh install that can be netlib's reference implementation (package libblas3): correct, but 30-100x slower
than a tuned BLAS, so a comparison against it flatters ZeroDL. The fix is `apt-get install libopenblas0-pthread`.

The library is read off the process itself: the file that defines the sgemm the peer's own extension binds
(dlsym from the extension's handle, then dladdr), asked through ctypes for OpenBLAS's own version, kernel and
threads. threadpoolctl is not needed: it lists every mapped BLAS, including one the peer does not multiply with.

Usage: peer_blas.py numpy|torch   prints one '# ...' line naming the peer and its BLAS (and for PyTorch its oneDNN
and CPU capability); exits 3 with the fix on stderr when the BLAS is the reference one or no BLAS entry point is found.
As a module: require("numpy") returns that line or raises SystemExit(3)."""
import ctypes
import os
import sys

REFUSAL_EXIT = 3
FIX = "install a tuned BLAS: apt-get install libopenblas0-pthread (Debian)"


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
        return "openblas", f"OpenBLAS ({config}; kernel {core}; {threads} threads) {real}"
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


def require(peer):
    """The peer's '# ...' line; SystemExit(3) with the fix when its BLAS is the reference one or unknown."""
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
    library = bound_library(module_path, symbol)
    if library is None:
        print(f"refusing to compare: cannot tell which BLAS {header[2:]} runs (no {symbol} reachable from "
              f"{module_path}); {FIX}", file=sys.stderr)
        raise SystemExit(REFUSAL_EXIT)
    kind, text = identify(library)
    if kind == "reference":
        print(f"refusing to compare: {header[2:]} runs {text}, 30-100x slower than a tuned BLAS; {FIX}", file=sys.stderr)
        raise SystemExit(REFUSAL_EXIT)
    return f"{header}, BLAS: {text}"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: peer_blas.py numpy|torch", file=sys.stderr)
        sys.exit(2)
    print(require(sys.argv[1]))
