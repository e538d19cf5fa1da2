"""The book's DeepConvNet built in PyTorch (the same layers as ZeroDL's Networks.DeepConvNet and docs/deepconv.json),
for C×H×W input and a number of classes; prints each layer's parameter count and the total, the figure
`zerodl summary --model deepconv` prints. ArchitectureTests asserts ZeroDL's count (123,552 for MNIST).
Usage: /usr/bin/python3 deepconv_params.py [C H W CLASSES]   (default 1 28 28 10; needs python3-torch)"""
import sys

import torch
from torch import nn


def deepconv(channels, height, width, classes):
    def conv(cin, cout, pad):
        return [nn.Conv2d(cin, cout, 3, padding=pad), nn.ReLU()]
    body = nn.Sequential(
        *conv(channels, 16, 1), *conv(16, 16, 1), nn.MaxPool2d(2, 2),
        *conv(16, 32, 1), *conv(32, 32, 2), nn.MaxPool2d(2, 2),
        *conv(32, 64, 1), *conv(64, 64, 1), nn.MaxPool2d(2, 2), nn.Flatten())
    features = body(torch.zeros(1, channels, height, width)).shape[1]
    return nn.Sequential(*body, nn.Linear(features, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, classes), nn.Dropout(0.5))


def main():
    c, h, w, classes = (int(a) for a in sys.argv[1:5]) if len(sys.argv) == 5 else (1, 28, 28, 10)
    net = deepconv(c, h, w, classes)
    for name, module in net.named_children():
        count = sum(p.numel() for p in module.parameters())
        if count:
            print(f"{name:>3} {type(module).__name__:<8} {count:>8,}")
    print(f"total {sum(p.numel() for p in net.parameters()):,}")


if __name__ == "__main__":
    main()
