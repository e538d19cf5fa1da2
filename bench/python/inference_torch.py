"""Inference speed of the book's DeepConvNet in PyTorch, measured as ZeroDL's deepconv-inference bench measures
it: images per second over the 10,000 MNIST test images in batches of 100 (after one warm-up batch), then the
median latency of one image at a time on one thread over the first 2,000 test images (after 200 warm-up ones).
The weights are random: they do not change the arithmetic.   Usage: inference_torch.py [THREADS]"""
import sys
import time

import torch

import mnist_npy
from convnet_torch import deepconv


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    _, _, x_test, _ = mnist_npy.load()
    x = torch.from_numpy(x_test.reshape(-1, 1, 28, 28))
    net = deepconv().eval()
    with torch.no_grad():
        net(x[:100])
        start = time.perf_counter()
        for i in range(0, len(x), 100):
            net(x[i:i + 100]).argmax(dim=1)
        seconds = time.perf_counter() - start
        print(f"images_per_second {len(x) / seconds:.0f}")
        torch.set_num_threads(1)
        latencies = []
        for i in range(-200, 2000):
            one = x[abs(i):abs(i) + 1]
            t0 = time.perf_counter()
            net(one)
            if i >= 0:
                latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        print(f"batch1_latency_ms_median {latencies[len(latencies) // 2]:.3f}")


if __name__ == "__main__":
    main()
