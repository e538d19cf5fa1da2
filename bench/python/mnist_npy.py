"""Loads the bundled MNIST (gzip IDX) into NumPy arrays, pixels/255 as float32, for the peer benchmarks."""
import gzip
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, "..", "..", "data", "mnist")


def read(name, offset):
    """One bundled IDX file's bytes after its header (offset 16 for images, 8 for labels), as uint8."""
    with gzip.open(os.path.join(MNIST, name), "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load():
    x_train = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255
    t_train = read("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    x_test = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255
    t_test = read("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return x_train, t_train, x_test, t_test
