"""ImageNet Inception for IS / FID (E-1, E-8, Q-16), read from a local file (`load_inception`;
nothing can be downloaded on offline machines, so a missing file is a clear error):

(a) the original TF graph `classify_image_graph_def.pb` (or `inception-2015-12-05.tgz` holding
    it), used as openai/improved-gan does: images in 0..255 are fed at `ExpandDims:0` (the graph
    resizes them to 299 itself), features are `pool_3` (2048-d), logits are pool_3 @ W of
    `softmax/logits/MatMul` *without* the softmax bias (1008 classes). The graph's
    `BatchNormWithGlobalNormalization` ops were removed from TF at GraphDef version 9 and no longer
    run inside a TF2 function; they are rewritten into the kernel's exact formula
    (x - mean) · rsqrt(var + eps) · gamma + beta before import.
(b) a Keras `InceptionV3` weights file (.h5, e.g. inception_v3_weights_tf_dim_ordering_tf_kernels.h5)
    or a saved Keras model (.keras / full-model .h5): images resized bilinearly to the model's
    input size (299), input range [-1, 1]; features = the input of the last layer (avg_pool).
The two give different absolute IS/FID (Q-16); `info["kind"]` records which one was used.
"""

from __future__ import annotations

import os
import tarfile
from typing import Any

from tf_amgan.classifiers.base import Classifier, _to_rgb

INCEPTION_GRAPH_FILE = "classify_image_graph_def.pb"
INCEPTION_TGZ_FILE = "inception-2015-12-05.tgz"
KERAS_INCEPTION_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
KERAS_INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
_INCEPTION_HELP = (
    f"Expected the TF graph {INCEPTION_GRAPH_FILE} (or {INCEPTION_TGZ_FILE} containing it; the "
    f"weights openai/improved-gan uses) or a Keras InceptionV3 weights file {KERAS_INCEPTION_FILE}. "
    "They cannot be downloaded on this machine: copy one here and pass --inception_weights=PATH "
    "(a file, or a directory holding one)."
)


# ----------------------------------------------------------------------------------------------
# ImageNet Inception: the original TF graph (openai/improved-gan).


def _read_graph_def_bytes(path: str) -> bytes:
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                if os.path.basename(member.name) == INCEPTION_GRAPH_FILE and member.isfile():
                    return tar.extractfile(member).read()
        raise FileNotFoundError(f"{path} does not contain {INCEPTION_GRAPH_FILE}")
    with open(path, "rb") as f:
        return f.read()


def _rewrite_global_batch_norm(graph_def) -> int:
    """Replaces every BatchNormWithGlobalNormalization node by the kernel's formula, in place.

    The op was removed at GraphDef version 9 (2016) and fails inside TF2 functions. Its CPU kernel
    computes (t - m) · (rsqrt(v + eps) · gamma) + beta (gamma only if scale_after_normalization);
    the replacement keeps the node name, so its consumers are untouched.

    Returns:
      The number of nodes rewritten.
    """
    from tensorflow.core.framework import node_def_pb2

    new_nodes, count = [], 0
    for node in graph_def.node:
        node.attr.pop("_output_shapes", None)  # batch-1 shapes recorded by the 2015 exporter
        if node.op != "BatchNormWithGlobalNormalization":
            new_nodes.append(node)
            continue
        count += 1
        t, m, v, beta, gamma = list(node.input)[:5]
        control = [i for i in node.input if i.startswith("^")]
        dtype = node.attr["T"].type
        eps = node.attr["variance_epsilon"].f
        scale = node.attr["scale_after_normalization"].b
        name = node.name

        def make(op, suffix, inputs, value=None, _name=name, _dtype=dtype, _device=node.device):
            n = node_def_pb2.NodeDef(name=f"{_name}/{suffix}" if suffix else _name, op=op)
            n.input.extend(inputs)
            n.attr["dtype" if op == "Const" else "T"].type = _dtype
            if value is not None:
                n.attr["value"].tensor.dtype = _dtype
                n.attr["value"].tensor.float_val.append(value)
            if _device:
                n.device = _device
            return n

        nodes = [
            make("Const", "gbn_eps", [], value=eps),
            make("AddV2", "gbn_var_eps", [v, f"{name}/gbn_eps"]),
            make("Rsqrt", "gbn_rsqrt", [f"{name}/gbn_var_eps"]),
        ]
        factor = f"{name}/gbn_rsqrt"
        if scale:
            nodes.append(make("Mul", "gbn_factor", [factor, gamma]))
            factor = f"{name}/gbn_factor"
        nodes += [
            make("Sub", "gbn_centered", [t, m] + control),
            make("Mul", "gbn_scaled", [f"{name}/gbn_centered", factor]),
            make("AddV2", "", [f"{name}/gbn_scaled", beta]),
        ]
        new_nodes.extend(nodes)
    del graph_def.node[:]
    graph_def.node.extend(new_nodes)
    return count


class InceptionGraphClassifier(Classifier):
    """The 2015-12-05 Inception graph as openai/improved-gan uses it (E-1, Q-16; ref. impl. §7).

    Args:
      graph_def_bytes: serialized GraphDef of classify_image_graph_def.pb.
      path: where it came from (recorded in `info`).
      softmax_bias: add the softmax bias (improved-gan omits it, the default; the AM-GAN code logs
        both and notes the bias version is consistently higher).
    """

    def __init__(self, graph_def_bytes: bytes, path: str, softmax_bias: bool = False):
        import tensorflow as tf

        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(graph_def_bytes)
        rewritten = _rewrite_global_batch_norm(graph_def)
        names = {n.name for n in graph_def.node}
        missing = [n for n in ("ExpandDims", "pool_3", "softmax/logits/MatMul") if n not in names]
        if missing:
            raise ValueError(f"{path} is not the Inception graph: no node(s) {missing}")

        def run_graph(images):
            (pool,) = tf.graph_util.import_graph_def(
                graph_def,
                input_map={"ExpandDims:0": images},
                return_elements=["pool_3:0"],
                name="",
            )
            graph = tf.compat.v1.get_default_graph()
            weights = graph.get_operation_by_name("softmax/logits/MatMul").inputs[1]
            # pool_3 is [N, 1, 1, 2048]; the graph's own pool_3/_reshape hard-codes N = 1.
            features = tf.reshape(pool, [-1, weights.shape[0]])
            logits = tf.matmul(features, weights)
            if softmax_bias:
                logits = tf.nn.bias_add(
                    logits, graph.get_operation_by_name("softmax/logits").inputs[1]
                )
            return features, logits

        self._fn = tf.compat.v1.wrap_function(
            run_graph, [tf.TensorSpec([None, None, None, 3], tf.float32)]
        )
        features_spec, logits_spec = self._fn.structured_outputs
        self.feature_dim = int(features_spec.shape[-1])
        self.num_classes = int(logits_spec.shape[-1])
        super().__init__(
            {
                "kind": "inception_graph",
                "path": os.path.abspath(path),
                "softmax_bias": bool(softmax_bias),
                "num_classes": self.num_classes,
                "feature_dim": self.feature_dim,
                "rewritten_batch_norm_nodes": rewritten,
            }
        )

    def _outputs(self, images):
        import tensorflow as tf

        # [-1, 1] -> 0..255, the inverse of the data scaling (x - 127.5) / 127.5.
        pixels = tf.clip_by_value((_to_rgb(images) + 1.0) * 127.5, 0.0, 255.0)
        features, logits = self._fn(pixels)
        return tf.nn.softmax(tf.cast(logits, tf.float32)), tf.cast(features, tf.float32)


# ----------------------------------------------------------------------------------------------
# Keras image classifiers (Keras InceptionV3, or any saved Keras model used as a stand-in).


class KerasImageClassifier(Classifier):
    """A Keras image model: probabilities = its output, features = the input of its last layer.

    Images in [-1, 1] are tiled to the model's channels and resized bilinearly to its input size
    (InceptionV3: 299x299, with [-1, 1] input as keras.applications' preprocess_input gives).

    Args:
      model: functional Keras model whose last layer is the classification layer (softmax; a
        linear last layer is treated as logits), or a feature-only model (`classes=False`).
      info: description recorded in results.
      classes: False for models without a classification layer (e.g. InceptionV3 notop, pooled).
    """

    def __init__(self, model, info: dict[str, Any], classes: bool = True):
        import keras
        import tensorflow as tf

        last = model.layers[-1]
        if classes:
            probe = keras.Model(model.inputs, [last.input, model.outputs[0]])
            activation = getattr(last, "activation", None)
            self._softmax = activation is not keras.activations.softmax
            self.num_classes = int(model.outputs[0].shape[-1])
        else:
            probe = keras.Model(model.inputs, [model.outputs[0], model.outputs[0]])
            self._softmax = False
            self.num_classes = 0
        self.feature_dim = int(probe.outputs[0].shape[-1])
        height, width, channels = model.inputs[0].shape[1:]
        height, width = int(height or 299), int(width or 299)  # unspecified: Inception's size
        channels = int(channels)
        self._size, self._channels = (height, width), channels
        self._model = model

        @tf.function(reduce_retracing=True)
        def run(images):
            x = _to_rgb(images, self._channels)
            if tuple(x.shape[1:3]) != self._size:
                x = tf.image.resize(x, self._size, method="bilinear")
            features, out = probe(x, training=False)
            out = tf.cast(out, tf.float32)
            probs = tf.nn.softmax(out) if self._softmax else out
            return probs, tf.cast(features, tf.float32)

        self._run = run
        super().__init__(
            {
                **info,
                "num_classes": self.num_classes,
                "feature_dim": self.feature_dim,
                "input_size": [height, width, channels],
            }  # fmt: skip
        )

    def _outputs(self, images):
        probs, features = self._run(images)
        if not self.num_classes:
            probs = probs[:, :0]
        return probs, features


def _load_keras_inception(path: str):
    import h5py
    import keras

    full_model = path.endswith(".keras")
    if not full_model:
        with h5py.File(path, "r") as f:
            full_model = "model_config" in f.attrs
    if full_model:
        model = keras.models.load_model(path, compile=False)
        return KerasImageClassifier(model, {"kind": "keras_model", "path": os.path.abspath(path)})
    errors = []
    for include_top in (True, False):
        try:
            model = keras.applications.InceptionV3(
                weights=None,
                include_top=include_top,
                pooling=None if include_top else "avg",
                input_shape=(299, 299, 3),
            )
            model.load_weights(path)
        except (ValueError, KeyError, OSError) as e:
            errors.append(f"{type(e).__name__}: {e}")
            continue
        return KerasImageClassifier(
            model,
            {"kind": "keras_inception_v3", "path": os.path.abspath(path), "top": include_top},
            classes=include_top,
        )
    raise ValueError(f"{path} holds no Keras InceptionV3 weights ({'; '.join(errors)[:300]})")


def find_inception_weights(path: str) -> str:
    """Resolves `--inception_weights`: a file, or a directory holding one of the known files."""
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        for name in (INCEPTION_GRAPH_FILE, INCEPTION_TGZ_FILE, KERAS_INCEPTION_FILE,
                     KERAS_INCEPTION_NOTOP_FILE):  # fmt: skip
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name)
        raise FileNotFoundError(f"no Inception weights in directory {path}. {_INCEPTION_HELP}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Inception weights {path} not found. {_INCEPTION_HELP}")
    return path


def load_inception(path: str, *, softmax_bias: bool = False) -> Classifier:
    """Loads the ImageNet Inception network for IS / FID from a local file (Q-16).

    Args:
      path: classify_image_graph_def.pb, a .tgz/.tar holding it, a Keras InceptionV3 weights .h5,
        a saved Keras model (.keras / .h5), or a directory holding one of the standard file names.
      softmax_bias: graph only: include the softmax bias (improved-gan: no).

    Returns:
      InceptionGraphClassifier or KerasImageClassifier (`info["kind"]` says which).

    Raises:
      FileNotFoundError: nothing at `path`; the message names the expected files.
      ValueError: the file is not one of the supported formats.
    """
    path = find_inception_weights(path)
    lower = path.lower()
    if lower.endswith((".h5", ".hdf5", ".keras")):
        return _load_keras_inception(path)
    try:
        data = _read_graph_def_bytes(path)
        return InceptionGraphClassifier(data, path, softmax_bias=softmax_bias)
    except FileNotFoundError:
        raise
    except Exception as e:  # protobuf DecodeError and friends: not a GraphDef
        raise ValueError(
            f"cannot read {path} as an Inception GraphDef ({type(e).__name__}: {e})"
        ) from e
