"""GFLOP/s of NumPy's float32 matmul (OpenBLAS) on the shapes bench/ZeroDL.Bench measures: a warm-up of
about 0.2 s, then repeated timed batches of calls for about 2 s; the median batch is printed.

With --only "MxKxN[At|Bt],…" only those of the shapes (names without spaces; empty: all).

With --shape MxKxN[At|Bt] --calls N (as bench/gemm-cycles.sh runs it under perf stat): a warm-up of about 0.2 s,
then exactly N calls with perf's counters switched on through the fifos named by PERF_CTL_FIFO and PERF_ACK_FIFO."""
import os
import sys
import time

import numpy as np

SHAPES = [("1024x1024x1024", 1024, 1024, 1024, False, False), ("100x784x50", 100, 784, 50, False, False),
          ("100x4320x100", 100, 4320, 100, False, False), ("25600x288x32", 25600, 288, 32, False, False),
          ("6400x576x64", 6400, 576, 64, False, False), ("57600x25x30", 57600, 25, 30, False, False),
          ("784x100x50 At", 784, 100, 50, True, False), ("100x50x784 Bt", 100, 50, 784, False, True),
          ("288x25600x32 At", 288, 25600, 32, True, False), ("25600x32x288 Bt", 25600, 32, 288, False, True),
          ("100x3072x512", 100, 3072, 512, False, False), ("3072x100x512 At", 3072, 100, 512, True, False),
          ("100x512x512 Bt", 100, 512, 512, False, True), ("100x5880x100", 100, 5880, 100, False, False),
          ("5880x100x100 At", 5880, 100, 100, True, False), ("100x100x5880 Bt", 100, 100, 5880, False, True),
          ("100x1024x50", 100, 1024, 50, False, False), ("1024x100x50 At", 1024, 100, 50, True, False)]


def operands(m, k, n, ta, tb):
    """"At" / "Bt": the operand is stored transposed and multiplied through a transposed view, as backward does."""
    rng = np.random.default_rng(1)
    a = (rng.random((k, m) if ta else (m, k), dtype=np.float32) - 0.5)
    b = (rng.random((n, k) if tb else (k, n), dtype=np.float32) - 0.5)
    return (a.T if ta else a), (b.T if tb else b), np.empty((m, n), np.float32)


def measure(m, k, n, ta, tb, seconds=2.0):
    a, b, c = operands(m, k, n, ta, tb)
    start = time.perf_counter(); calls = 0
    while time.perf_counter() - start < 0.2:
        np.matmul(a, b, out=c); calls += 1
    per_batch = max(1, int(calls * 0.05 / (time.perf_counter() - start)))
    rates = []
    begin = time.perf_counter()
    while time.perf_counter() - begin < seconds or len(rates) < 5:
        t = time.perf_counter()
        for _ in range(per_batch):
            np.matmul(a, b, out=c)
        rates.append(2.0 * m * n * k * per_batch / (time.perf_counter() - t) / 1e9)
    rates.sort()
    return rates[len(rates) // 2]


def perf_counting(command):
    """Switches perf stat's counters ("enable" / "disable") when it runs this with --control fifos; else nothing."""
    control, ack = os.environ.get("PERF_CTL_FIFO"), os.environ.get("PERF_ACK_FIFO")
    if not control:
        return
    with open(control, "w") as f:
        f.write(command + "\n")
    if ack:
        with open(ack) as f:
            f.readline()  # perf keeps the fifo open: one line, not to the end


def fixed_calls(shape, calls):
    text = shape.replace(" ", "")
    ta, tb = text.endswith("At"), text.endswith("Bt")
    m, k, n = (int(d) for d in (text[:-2] if ta or tb else text).split("x"))
    a, b, c = operands(m, k, n, ta, tb)
    start = time.perf_counter()
    while time.perf_counter() - start < 0.2:
        np.matmul(a, b, out=c)
    perf_counting("enable")
    t = time.perf_counter()
    for _ in range(calls):
        np.matmul(a, b, out=c)
    seconds = time.perf_counter() - t
    perf_counting("disable")
    print(f"{shape}\t{2.0 * m * n * k * calls / seconds / 1e9:.1f}")


if __name__ == "__main__":
    if "--calls" in sys.argv:
        fixed_calls(sys.argv[sys.argv.index("--shape") + 1], int(sys.argv[sys.argv.index("--calls") + 1]))
        sys.exit(0)
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    wanted = {s.replace(" ", "") for s in only.split(",") if s.strip()}
    unknown = wanted - {name.replace(" ", "") for name, *_ in SHAPES}
    if unknown:
        sys.exit(f"gemm_numpy.py: --only names shapes it does not time: {', '.join(sorted(unknown))}")
    print("# NumPy", np.__version__)
    print("shape (MxKxN)\tGFLOP/s")
    for name, m, k, n, ta, tb in SHAPES:
        if not wanted or name.replace(" ", "") in wanted:
            print(f"{name}\t{measure(m, k, n, ta, tb):.1f}")
