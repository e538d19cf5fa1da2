"""The book's ch. 5 run in NumPy, written in the book's style: TwoLayerNet 784-50-10 (ReLU, weights
N(0, 0.01^2)), SGD lr 0.1, batch 100 drawn with replacement, 10,000 iterations, train and test accuracy on
the full sets every 600 iterations. Prints the final test accuracy and the seconds the loop took."""
import sys
import time

import numpy as np

from mnist_npy import load


def softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    x_train, t_train, x_test, t_test = load()
    rng = np.random.default_rng(1)
    W1 = (0.01 * rng.standard_normal((784, 50))).astype(np.float32)
    b1 = np.zeros(50, np.float32)
    W2 = (0.01 * rng.standard_normal((50, 10))).astype(np.float32)
    b2 = np.zeros(10, np.float32)

    def predict(x):
        return np.maximum(x @ W1 + b1, 0) @ W2 + b2

    def accuracy(x, t):
        return float((predict(x).argmax(axis=1) == t).mean())

    lr, batch, per_epoch = 0.1, 100, 600
    start = time.perf_counter()
    test_acc = 0.0
    for i in range(iterations):
        idx = rng.choice(x_train.shape[0], batch)
        x, t = x_train[idx], t_train[idx]
        a1 = x @ W1 + b1
        z1 = np.maximum(a1, 0)
        y = softmax(z1 @ W2 + b2)
        dy = y.copy()
        dy[np.arange(batch), t] -= 1
        dy /= batch
        dW2 = z1.T @ dy
        db2 = dy.sum(axis=0)
        dz1 = dy @ W2.T
        da1 = dz1 * (a1 > 0)
        dW1 = x.T @ da1
        db1 = da1.sum(axis=0)
        _ = da1 @ W1.T  # the book's Affine computes dx for the first layer too
        W1 -= lr * dW1; b1 -= lr * db1; W2 -= lr * dW2; b2 -= lr * db2
        if (i + 1) % per_epoch == 0 or i + 1 == iterations:
            accuracy(x_train, t_train)
            test_acc = accuracy(x_test, t_test)
    elapsed = time.perf_counter() - start
    print(f"test_accuracy {test_acc:.4f}")
    print(f"seconds {elapsed:.2f}")


if __name__ == "__main__":
    main()
