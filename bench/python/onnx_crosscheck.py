"""Cross-checks ONNX files (exported by ZeroDL, or the PyTorch fixture) with two independent readers: Debian's
python3-onnx (onnx.checker.check_model with full_check=True: the schema, every operator's attributes and shape
inference) and python3-opencv (cv2.dnn.readNetFromONNX, then the 10,000 MNIST test images through OpenCV's own
inference engine, whose correct count is printed for comparison with ZeroDL's).

Usage: /usr/bin/python3 bench/python/onnx_crosscheck.py FILE.onnx ...
Needs: apt-get install -y python3-onnx python3-opencv python3-numpy. Exit code 1 if any file fails a check."""
import os
import sys

import cv2
import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_npy import read  # noqa: E402


def main():
    # Pixels × float32(1/255), as ZeroDL scales MNIST; models with their own normalisation are not handled here.
    images = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) * np.float32(1.0 / 255)
    labels = read("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    failed = False
    print("file | onnx.checker (full) | OpenCV correct")
    print("--- | --- | ---:")
    for path in sys.argv[1:]:
        model = onnx.load(path)
        try:
            onnx.checker.check_model(model, full_check=True)
            checker = "ok"
        except Exception as e:  # the checker raises several types; any of them is a failure to report
            checker, failed = f"FAILED: {e}".replace("\n", " "), True
        dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
        try:
            net = cv2.dnn.readNetFromONNX(path)
            correct = 0
            for start in range(0, len(images), 500):
                net.setInput(images[start:start + 500].reshape([-1] + dims))
                correct += int((net.forward().reshape(-1, 10).argmax(1) == labels[start:start + 500]).sum())
            opencv = str(correct)
        except cv2.error as e:
            opencv, failed = f"FAILED: {e}".replace("\n", " "), True
        print(f"{os.path.basename(path)} | {checker} | {opencv}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
