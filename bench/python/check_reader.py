"""Compares tools/python/zerodl_safetensors.py with ZeroDL itself: for each model file given with the .npy of
probabilities that `zerodl evaluate --outputs` wrote for the MNIST test set, prints the largest difference, the
images whose predicted class differs, and both accuracies. Exits 1 if a prediction differs."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "python"))
import zerodl_safetensors as zs  # noqa: E402
from mnist_npy import read  # noqa: E402

pixels = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
labels = read("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
status = 0
for model_path, outputs_path in zip(sys.argv[1::2], sys.argv[2::2]):
    model = zs.load(model_path)
    ours = zs.predict(model, pixels)
    theirs = np.load(outputs_path)
    differ = int((ours.argmax(1) != theirs.argmax(1)).sum())
    print(f"{os.path.basename(model_path)}: max |p_numpy - p_zerodl| = {np.abs(ours - theirs).max():.2e}, "
          f"predictions differing: {differ}, accuracy numpy {(ours.argmax(1) == labels).mean():.4f} "
          f"zerodl {(theirs.argmax(1) == labels).mean():.4f}")
    status |= differ != 0
sys.exit(status)
