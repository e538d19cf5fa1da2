"""The book's ch. 5 run in PyTorch, written as PyTorch users write it: TwoLayerNet 784-50-10 as nn.Sequential
(Linear, ReLU, Linear; weights N(0, 0.01^2), biases 0), cross-entropy, torch.optim.SGD lr 0.1, batch 100 drawn
with replacement, 10,000 iterations, train and test accuracy on the full sets every 600 iterations.
Usage: twolayer_torch.py [ITERATIONS] [THREADS]. Prints the final test accuracy and the seconds the loop took."""
import sys
import time

import torch
from torch import nn

from mnist_npy import load


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x_train, t_train, x_test, t_test = (torch.from_numpy(a) for a in load())
    net = nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10))
    with torch.no_grad():
        for layer in (net[0], net[2]):
            layer.weight.normal_(0, 0.01)
            layer.bias.zero_()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)

    def accuracy(x, t):
        with torch.no_grad():
            return (net(x).argmax(dim=1) == t).float().mean().item()

    batch, per_epoch = 100, 600
    start = time.perf_counter()
    test_acc = 0.0
    for i in range(iterations):
        idx = torch.randint(0, x_train.shape[0], (batch,))
        loss = loss_fn(net(x_train[idx]), t_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (i + 1) % per_epoch == 0 or i + 1 == iterations:
            accuracy(x_train, t_train)
            test_acc = accuracy(x_test, t_test)
    elapsed = time.perf_counter() - start
    print(f"test_accuracy {test_acc:.4f}")
    print(f"seconds {elapsed:.2f}")


if __name__ == "__main__":
    main()
