"""The PyTorch side of ZeroDL's ONNX import test (issue 20): trains a small convolutional network on the bundled MNIST
with PyTorch, exports it with torch.onnx.export (opset 13, dynamic batch), and writes PyTorch's own test result beside
it, so that ZeroDL's test (OnnxTorchTests) can check that the imported network classifies every test image as PyTorch
does. The network uses every kind of layer ZeroDL imports from a PyTorch export: Conv2d, BatchNorm2d (per channel),
ReLU, MaxPool2d, Flatten, Linear (Gemm), Dropout (inverted; gone in the exported inference graph).

Inputs are pixels × float32(1/255), exactly as ZeroDL scales MNIST bytes, so both sides see the same float inputs.

Usage: /usr/bin/python3 bench/python/onnx_torch.py [OUT_DIR] [EPOCHS]   (needs python3-torch; default OUT_DIR is
tests/ZeroDL.Tests/data/onnx, EPOCHS 2). Writes OUT_DIR/torch_mnist.onnx and OUT_DIR/torch_mnist.json:
{"correct": …, "total": 10000, "misclassified": [indices], "torch": version, "seed": 20, "epochs": …}.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
MNIST = os.path.join(ROOT, "data", "mnist")
SEED = 20


def read(name, offset):
    with gzip.open(os.path.join(MNIST, name), "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def images(name):
    # ZeroDL multiplies each byte by the float32 1/255 (not a division): the same here, bit for bit.
    return (read(name, 16).reshape(-1, 1, 28, 28).astype(np.float32) * np.float32(1.0 / 255)).astype(np.float32)


def network():
    return nn.Sequential(
        # BatchNorm2d after the ReLU: right after the Conv, the export would fold it into the Conv's weights, and the
        # file would hold no BatchNormalization node to import.
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.BatchNorm2d(8), nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(16 * 6 * 6, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "ZeroDL.Tests", "data", "onnx")
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    x_train = torch.from_numpy(images("train-images-idx3-ubyte.gz"))
    t_train = torch.from_numpy(read("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    x_test = torch.from_numpy(images("t10k-images-idx3-ubyte.gz"))
    t_test = read("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)

    net = network()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.002)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)
    start = time.time()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x_train), generator=generator)
        for i in range(0, len(order), 100):
            batch = order[i:i + 100]
            optimizer.zero_grad()
            loss = loss_fn(net(x_train[batch]), t_train[batch])
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f} ({time.time() - start:.0f} s)", flush=True)

    net.eval()
    with torch.no_grad():
        predicted = torch.cat([net(x_test[i:i + 1000]).argmax(1) for i in range(0, len(x_test), 1000)]).numpy()
    misclassified = [int(i) for i in np.nonzero(predicted != t_test)[0]]
    correct = len(t_test) - len(misclassified)
    print(f"PyTorch {torch.__version__}: {correct} of {len(t_test)} test images correct")

    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, "torch_mnist.onnx")
    torch.onnx.export(net, x_test[:1], onnx_path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    with open(os.path.join(out_dir, "torch_mnist.json"), "w") as f:
        json.dump({"correct": correct, "total": len(t_test), "misclassified": misclassified, "torch": torch.__version__,
                   "seed": SEED, "epochs": epochs}, f)
        f.write("\n")
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path):,} bytes) and torch_mnist.json")


if __name__ == "__main__":
    main()
