"""Read a ZeroDL model file (safetensors) in Python, with NumPy only.

    import zerodl_safetensors as zs
    model = zs.load("models/dense.safetensors")
    model.tensors["affine1.W"]          # numpy float32 arrays by ZeroDL's names (784 x 512)
    model.architecture["layers"]        # the architecture JSON as a dict (docs/architecture.md)
    model.classes, model.normalization  # class names in output order; pixels -> input
    probabilities = zs.predict(model, pixels)   # dense networks: uint8 pixels (N x 784) -> N x classes

A file is 8 bytes of little-endian header length, a JSON header (each tensor's dtype, shape and byte range, and
"__metadata__" with ZeroDL's keys: format, format_version, architecture, classes, normalization, training), then
the tensor bytes. ZeroDL writes F32 or F16 (`zerodl convert --dtype f16`); both load as float32.
"""
import json
import struct
import sys

import numpy as np

_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8")}
# As ZeroDL reads them (SafeTensors.MaxHeader): a header beyond this is not one ZeroDL wrote.
_MAX_HEADER = 16 << 20


class ZeroDLModel:
    """A model file's tensors (name -> float32 array) and metadata (raw strings, and the parsed JSON values)."""

    def __init__(self, tensors, metadata):
        self.tensors = tensors
        self.metadata = metadata
        self.architecture = json.loads(metadata["architecture"])
        self.classes = json.loads(metadata.get("classes", "null")) or [str(i) for i in range(_outputs(self))]
        self.normalization = json.loads(metadata.get("normalization", "null")) or {"pixel_scale": 255, "mean": [0], "std": [1]}
        self.training = json.loads(metadata.get("training", "{}"))

    def layer_names(self):
        """Layer names as ZeroDL gives them: the kind numbered per kind in order (affine1, relu1, affine2, ...)."""
        counts, names = {}, []
        for layer in self.architecture["layers"]:
            kind = layer.get("kind", layer["type"])
            counts[kind] = counts.get(kind, 0) + 1
            names.append(f"{kind}{counts[kind]}")
        return names


def load(path):
    """Reads a ZeroDL model file. Raises ValueError naming the file and the problem if it is not one."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (length,) = struct.unpack("<Q", data[:8])
    if length > min(_MAX_HEADER, len(data) - 8):
        raise ValueError(f"{path}: header length {length} exceeds the file or {_MAX_HEADER} bytes")
    header = json.loads(data[8 : 8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    if metadata.get("format") != "zerodl" or "architecture" not in metadata:
        raise ValueError(f"{path}: not a ZeroDL model (no format=zerodl and architecture in __metadata__)")
    if metadata.get("format_version", "1") != "2":
        raise ValueError(f"{path}: format_version {metadata.get('format_version', '1')}; this reader reads 2")
    body = memoryview(data)[8 + length :]
    tensors = {}
    for name, entry in header.items():
        dtype = _DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {entry['dtype']}, not F32, F16 or F64")
        start, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        if not 0 <= start <= end <= len(body) or end - start != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: tensor {name}'s byte range [{start}, {end}) does not fit its shape {shape} or the file")
        tensors[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(shape).astype(np.float32)
    return ZeroDLModel(tensors, metadata)


def preprocess(model, pixels):
    """Raw pixels (N x C*H*W, or N x C x H x W, 0..pixel_scale) -> the network's input, as ZeroDL prepares it."""
    norm = model.normalization
    x = np.asarray(pixels, dtype=np.float32) / np.float32(norm["pixel_scale"])
    channels = len(norm["mean"])
    x = x.reshape(len(x), channels, -1)
    x = (x - np.asarray(norm["mean"], np.float32)[None, :, None]) / np.asarray(norm["std"], np.float32)[None, :, None]
    return x.reshape(len(x), -1)


def predict(model, pixels):
    """Class probabilities (N x classes) of raw pixels, for networks of dense layers: affine, relu, sigmoid, tanh,
    batchnorm, dropout and flatten. A convolution or pooling layer raises NotImplementedError (the tensors are still
    in model.tensors)."""
    x = preprocess(model, pixels)
    for name, layer in zip(model.layer_names(), model.architecture["layers"]):
        kind = layer["type"]
        t = lambda key: model.tensors[f"{name}.{key}"]
        if kind == "affine":
            x = x.reshape(len(x), -1) @ t("W") + t("b")
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "sigmoid":
            x = 1 / (1 + np.exp(-x))
        elif kind == "tanh":
            x = np.tanh(x)
        elif kind == "batchnorm":
            # Inference: the running statistics stand for the batch's, per feature of the flat activations.
            x = (x - t("running_mean")) / np.sqrt(t("running_var") + np.float32(layer.get("epsilon", 1e-6))) * t("gamma") + t("beta")
        elif kind == "dropout":
            # Classic dropout (the book's) scales by the kept fraction at inference; inverted dropout scaled in training.
            if layer.get("mode", "classic") == "classic":
                x = x * np.float32(1 - layer["ratio"])
        elif kind == "flatten":
            x = x.reshape(len(x), -1)
        else:
            raise NotImplementedError(f"layer {name} ({kind}): this reader's forward pass covers dense networks only")
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def _outputs(model):
    return next(layer["units"] for layer in reversed(model.architecture["layers"]) if layer["type"] == "affine")


if __name__ == "__main__":
    for path in sys.argv[1:]:
        m = load(path)
        print(f"{path}: {len(m.tensors)} tensors, {len(m.classes)} classes, input {m.architecture['input_shape']}")
        for name, value in m.tensors.items():
            print(f"  {name} {value.shape}")
