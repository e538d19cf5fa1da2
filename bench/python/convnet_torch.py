"""The book's SimpleConvNet or DeepConvNet in PyTorch, trained as ZeroDL's convnet-train bench trains it: Adam
0.001, mini-batches of 100 from a shuffled MNIST training set, a few warm-up iterations, then a timed fixed
number. Prints seconds_per_iteration, seconds_per_epoch (60,000 images) and the peak resident memory in the
bench's format.
Usage: convnet_torch.py simpleconv|deepconv [ITERATIONS] [THREADS]"""
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

import mnist_npy


def simpleconv():
    return nn.Sequential(
        nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))


def deepconv():
    def conv(cin, cout, pad):
        return [nn.Conv2d(cin, cout, 3, padding=pad), nn.ReLU()]
    return nn.Sequential(
        *conv(1, 16, 1), *conv(16, 16, 1), nn.MaxPool2d(2, 2),
        *conv(16, 32, 1), *conv(32, 32, 2), nn.MaxPool2d(2, 2),
        *conv(32, 64, 1), *conv(64, 64, 1), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10), nn.Dropout(0.5))


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "deepconv"
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x_train, t_train, _, _ = mnist_npy.load()
    x = torch.from_numpy(x_train.reshape(-1, 1, 28, 28))
    t = torch.from_numpy(t_train)
    net = {"simpleconv": simpleconv, "deepconv": deepconv}[model]()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.from_numpy(np.random.default_rng(1).permutation(len(t_train)))
    warmup, batch, step = 3, 100, 0
    start = None
    loss = None
    net.train()
    for it in range(warmup + iterations):
        if it == warmup:
            start = time.perf_counter()
        if (step + 1) * batch > len(order):
            step = 0
        idx = order[step * batch:(step + 1) * batch]
        step += 1
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[idx]), t[idx])
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    print(f"model {model}")
    print(f"last_loss {loss.item():.4f}")
    print(f"seconds_per_iteration {seconds / iterations:.4f}")
    print(f"seconds_per_epoch {seconds / iterations * 600:.1f}")
    print(f"peak_resident_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
