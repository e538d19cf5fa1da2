"""Predicted step time and scaling efficiency of data-parallel training on N nodes (docs/scale-out.md).

Weak scaling: each node keeps its per-node batch, so its compute time per step stays the measured one; a ring
allreduce adds 2(N-1)/N x the gradient's bytes sent and received per node, at the network's bandwidth, plus
2(N-1) message latencies. Efficiency = compute / (compute + allreduce): the share of one node's speed each node
keeps. Usage: scaling_model.py NAME PARAMETERS COMPUTE_MS [NAME PARAMETERS COMPUTE_MS ...]
"""
import sys

LATENCY_S = 20e-6  # one message across a switch, typical of TCP on a 10-100 Gbit/s LAN
NETWORKS = [("10 Gbit/s", 10e9 / 8), ("100 Gbit/s", 100e9 / 8)]
NODES = [2, 8, 32]

args = sys.argv[1:]
print("| network | gradient | compute per step | link | " + " | ".join(f"{n} nodes" for n in NODES) + " |")
print("|---|---|---|---|" + "---|" * len(NODES))
for i in range(0, len(args), 3):
    name, parameters, compute_ms = args[i], int(args[i + 1]), float(args[i + 2])
    gradient = 4 * parameters
    for link, bandwidth in NETWORKS:
        cells = []
        for n in NODES:
            allreduce_ms = (2 * (n - 1) / n * gradient / bandwidth + 2 * (n - 1) * LATENCY_S) * 1e3
            cells.append(f"{allreduce_ms:.2f} ms, {compute_ms / (compute_ms + allreduce_ms):.1%}")
        print(f"| {name} | {gradient / 1e6:.2f} MB | {compute_ms:.1f} ms | {link} | " + " | ".join(cells) + " |")
