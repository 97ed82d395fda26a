"""Classifier / feature networks: dataset classifiers (train, save, load) and the Inception loaders.

The ImageNet weights cannot be downloaded here, so the Inception pipeline is tested with small
stand-in networks of the same format: a GraphDef with the original tensor names and op types
(including the deprecated BatchNormWithGlobalNormalization), and Keras models.
"""

import json
import os
import tarfile

import keras
import numpy as np
import pytest
import scipy.special
import tensorflow as tf
from sklearn.datasets import load_digits

from tf_amgan import classifiers as C
from tf_amgan import data
from tf_amgan.classifiers import cli as classifier_cli
from tf_amgan.classifiers import dataset as classifier_dataset


def _digits(shape=(8, 8, 1)):
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 8.0 - 1.0)[..., None]  # 0..16 -> [-1, 1]
    if shape[-1] == 3:
        x = np.repeat(x, 3, axis=-1)
    if shape[0] > 8:
        pad = (shape[0] - 8) // 2
        x = np.pad(x, [(0, 0), (pad, pad), (pad, pad), (0, 0)], constant_values=-1.0)
    y = digits.target.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(y))
    x, y = x[perm], y[perm]
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


def _accuracy(classifier, x, y):
    return float(np.mean(np.argmax(classifier.predict_probs(x), axis=1) == y))


# ----------------------------------------------------------------------------------------------
# Dataset classifiers.


def test_cnn_learns_digits_well_above_chance():
    (x, y), (xt, yt) = _digits()
    mean, var = classifier_dataset._channel_moments(x)
    model = C.build_cnn((8, 8, 1), 10, filters=(16, 32), dense_units=64, mean=mean,
                        variance=var, seed=1)  # fmt: skip
    recipe = C.Recipe("cnn", epochs=10, batch_size=64)
    history = C.fit_classifier(model, recipe, (x, y), seed=1)
    assert len(history["loss"]) == 10 and history["loss"][-1] < history["loss"][0]
    clf = C.DatasetClassifier(model, {})
    assert clf.num_classes == 10 and clf.feature_dim == 64 and clf.input_shape == (8, 8, 1)
    assert _accuracy(clf, xt, yt) > 0.85  # chance: 0.1


def test_densenet_bc_recipe_tiny():
    (x, y), (xt, yt) = _digits((16, 16, 3))
    model = C.build_densenet_bc((16, 16, 3), 10, depth=10, growth_rate=8, seed=2)
    # depth 10 -> one bottleneck layer per block; stem 2k; transitions halve the channels.
    assert len([layer for layer in model.layers if layer.name.endswith("_concat")]) == 3
    stem = 2 * 8
    c1 = (stem + 8) // 2
    c2 = (c1 + 8) // 2
    assert model.get_layer("features").output.shape[-1] == c2 + 8
    assert model.get_layer("transition1_pool").output.shape[1:3] == (4, 4)
    assert model.losses  # L2 weight decay terms
    recipe = C.Recipe("densenet", epochs=5, batch_size=64, optimizer="nesterov",
                      learning_rate=0.1, schedule="step", augment=True)  # fmt: skip
    C.fit_classifier(model, recipe, (x, y), seed=2)
    assert _accuracy(C.DatasetClassifier(model, {}), xt, yt) > 0.5
    with pytest.raises(ValueError, match="6n \\+ 4"):
        C.build_densenet_bc((16, 16, 3), 10, depth=12)


def test_augmentation_is_seeded_crop_and_flip():
    x = np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6, 1) / 72.0
    recipe = C.Recipe("densenet", epochs=1, batch_size=2, augment=True)
    a = [
        b[0].numpy()
        for b in classifier_dataset._train_dataset(x, np.array([0, 1]), recipe, seed=5).take(1)
    ]
    b = [
        b[0].numpy()
        for b in classifier_dataset._train_dataset(x, np.array([0, 1]), recipe, seed=5).take(1)
    ]
    np.testing.assert_array_equal(a[0], b[0])
    padded = np.pad(x, [(0, 0), (4, 4), (4, 4), (0, 0)])
    for out in a[0]:
        # Every output is a 6x6 window of a zero-padded input, possibly mirrored.
        windows = [
            w
            for img in padded
            for i in range(9)
            for j in range(9)
            for w in (img[i : i + 6, j : j + 6], img[i : i + 6, j : j + 6][:, ::-1])
        ]
        assert any(np.array_equal(out, w) for w in windows)


def test_train_save_load_round_trip_mixture(tmp_path):
    out = tmp_path / "clusters4"
    meta = C.train_classifier("clusters4", str(out), epochs=1, max_train_samples=10000, seed=3)
    assert meta["arch"] == "mlp" and meta["dataset"] == "clusters4"
    # P003's clusters overlap little at std 0.3: far above chance (0.25 .. 0.4).
    assert meta["test_accuracy"] > 0.85
    assert sorted(os.listdir(out)) == [C.CLASSIFIER_FILE, C.MODEL_FILE]
    assert [n for n in os.listdir(tmp_path) if n.startswith(".")] == []
    on_disk = json.loads((out / C.CLASSIFIER_FILE).read_text())
    for key in ("class_prior", "label_frequencies", "test_accuracy", "training_seconds", "seed",
                "data_options", "recipe", "num_classes", "input_shape"):  # fmt: skip
        assert key in on_disk
    prior = np.asarray(on_disk["class_prior"])
    assert prior.shape == (4,) and abs(prior.sum() - 1.0) < 1e-6 and (prior > 0).all()
    np.testing.assert_allclose(on_disk["label_frequencies"], [0.1, 0.2, 0.3, 0.4], atol=0.01)

    clf = C.load_classifier(str(out))
    np.testing.assert_array_equal(clf.class_prior, prior)
    x, y = data.load_arrays("clusters4", "train", num_samples=50000)
    keep = np.sort(np.random.default_rng(3).permutation(len(y))[:10000])  # the training subset
    x, y = x[keep], y[keep].astype(np.int64)
    # C̄^train recomputed from the loaded model equals the stored one: same predictions.
    recomputed, train_acc = classifier_dataset._class_prior_and_accuracy(clf, x, y, 1000)
    np.testing.assert_allclose(recomputed, prior, atol=1e-6)
    assert abs(train_acc - on_disk["train_accuracy"]) < 1e-3
    with pytest.raises(FileExistsError):
        C.train_classifier("clusters4", str(out), epochs=1)


def test_save_load_identical_predictions(tmp_path):
    (x, _), _ = _digits()
    model = C.build_cnn((8, 8, 1), 10, filters=(8,), dense_units=16, seed=4)
    before = C.DatasetClassifier(model, {"class_prior": [0.1] * 10})
    info = {"format": C.FORMAT, "dataset": "mnist", "class_prior": [0.1] * 10}
    classifier_dataset._write_atomically(str(tmp_path / "c"), model, info, overwrite=False)
    after = C.load_classifier(str(tmp_path / "c" / C.MODEL_FILE))
    a, b = before.outputs(x[:300], batch_size=128), after.outputs(x[:300], batch_size=100)
    np.testing.assert_array_equal(a.probs, b.probs)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_allclose(a.probs.sum(axis=1), 1.0, atol=1e-6)
    assert after.info["kind"] == "dataset" and after.cache_dir.endswith("real_stats")
    with pytest.raises(ValueError, match="takes images of shape"):
        after.predict_probs(np.zeros((2, 16, 16, 1), np.float32))
    with pytest.raises(FileExistsError):
        classifier_dataset._write_atomically(str(tmp_path / "c"), model, info, overwrite=False)
    classifier_dataset._write_atomically(
        str(tmp_path / "c"), model, {**info, "seed": 9}, overwrite=True
    )
    assert C.load_classifier(str(tmp_path / "c")).info["seed"] == 9
    assert sorted(os.listdir(tmp_path)) == ["c"]


def test_load_classifier_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m tf_amgan.classifiers"):
        C.load_classifier(str(tmp_path))


def test_command_fashion_mnist_subset(tmp_path, capsys):
    out = tmp_path / "fm"
    argv = ["--dataset=fashion_mnist", f"--output_dir={out}", "--epochs=2",
            "--max_train_samples=2000", "--seed=1"]  # fmt: skip
    assert classifier_cli.main(argv) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["test_accuracy"] > 0.6  # chance 0.1; full data reaches > 0.9
    assert "epoch 2/2" in captured.err and "test accuracy" in captured.err
    clf = C.load_classifier(str(out))
    assert clf.input_shape == (32, 32, 1)  # the GAN's padded resolution
    assert clf.info["data_options"] == {"pad_to_32": True} and clf.info["num_train"] == 2000
    assert abs(clf.class_prior.sum() - 1.0) < 1e-6
    assert classifier_cli.main(argv) == 2
    assert capsys.readouterr().err.strip().startswith("error: ")
    assert classifier_cli.main(["--dataset=nope", f"--output_dir={tmp_path / 'x'}"]) == 2
    assert "unknown --dataset" in capsys.readouterr().err


def test_mixture_posterior():
    mixture = data.get_mixture("ring8")
    clf = C.MixturePosterior(mixture)
    x, y = mixture.sample(2000, seed=0)
    probs = clf.predict_probs(x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(np.argmax(probs, axis=1) == y) == 1.0  # std 0.01: no overlap
    np.testing.assert_array_equal(clf.class_prior, mixture.weights)


# ----------------------------------------------------------------------------------------------
# Inception stand-ins.


def _standin_graph_def(num_features=8, num_classes=11):
    """A tiny graph with the names and op types of classify_image_graph_def.pb (TF 2015 format)."""
    rng = np.random.default_rng(0)
    g = tf.Graph()
    with g.as_default():
        raw = tf.compat.v1.placeholder(tf.float32, [None, None, 3], name="Cast")
        x = tf.expand_dims(raw, 0, name="ExpandDims")
        x = tf.compat.v1.image.resize_bilinear(x, tf.constant([13, 13]), name="ResizeBilinear")
        x = tf.multiply(tf.subtract(x, 128.0, name="Sub"), 1.0 / 128.0, name="Mul")
        w = tf.constant(rng.normal(size=(3, 3, 3, num_features)).astype(np.float32))
        x = tf.nn.conv2d(x, w, [1, 2, 2, 1], "VALID", name="conv/Conv2D")
        for name in ("m", "v", "beta", "gamma"):
            lo = 0.5 if name in ("v", "gamma") else -1.0
            tf.constant(rng.uniform(lo, 1.0, num_features).astype(np.float32), name=f"conv/{name}")
        x = tf.nn.relu(tf.identity(x, name="conv/batchnorm"), name="conv")
        pool = tf.nn.avg_pool2d(x, [1, 6, 6, 1], [1, 1, 1, 1], "VALID", name="pool_3")
        flat = tf.reshape(
            pool, [1, num_features], name="pool_3/_reshape"
        )  # batch 1, as the original
        sw = tf.constant(rng.normal(size=(num_features, num_classes)).astype(np.float32),
                         name="softmax/weights")  # fmt: skip
        sb = tf.constant(rng.normal(size=num_classes).astype(np.float32), name="softmax/biases")
        logits = tf.nn.bias_add(tf.matmul(flat, sw, name="softmax/logits/MatMul"), sb,
                                name="softmax/logits")  # fmt: skip
        tf.nn.softmax(logits, name="softmax")
    graph_def = g.as_graph_def()
    for node in graph_def.node:  # the op removed at GraphDef version 9, as in the 2015 graph
        if node.name == "conv/batchnorm":
            node.op = "BatchNormWithGlobalNormalization"
            del node.input[:]
            node.input.extend(["conv/Conv2D", "conv/m", "conv/v", "conv/beta", "conv/gamma"])
            node.attr["variance_epsilon"].f = 1e-3
            node.attr["scale_after_normalization"].b = True
    graph_def.versions.producer = 5
    return graph_def


def _reference_outputs(graph_def, images):
    """Runs the unmodified graph as improved-gan did: one image at a time, 0..255, in a Session."""
    g = tf.Graph()
    with g.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    pools, logits, biased = [], [], []
    with tf.compat.v1.Session(graph=g) as sess:
        for img in images:
            p, lg, b = sess.run(["pool_3:0", "softmax/logits/MatMul:0", "softmax/logits:0"],
                                {"ExpandDims:0": ((img + 1.0) * 127.5)[None]})  # fmt: skip
            pools.append(p.reshape(-1))
            logits.append(lg.reshape(-1))
            biased.append(b.reshape(-1))
    return (
        np.array(pools),
        scipy.special.softmax(np.array(logits), axis=1),
        scipy.special.softmax(np.array(biased), axis=1),
    )


def test_inception_graph_pb_and_tgz(tmp_path):
    graph_def = _standin_graph_def()
    pb = tmp_path / C.INCEPTION_GRAPH_FILE
    pb.write_bytes(graph_def.SerializeToString())
    with tarfile.open(tmp_path / C.INCEPTION_TGZ_FILE, "w:gz") as tar:
        tar.add(pb, arcname="inception/" + C.INCEPTION_GRAPH_FILE)
    images = np.random.default_rng(1).uniform(-1, 1, (5, 24, 24, 3)).astype(np.float32)
    pools, probs, biased = _reference_outputs(graph_def, images)

    net = C.load_inception(str(pb))
    assert net.info["kind"] == "inception_graph" and net.info["rewritten_batch_norm_nodes"] == 1
    assert (net.num_classes, net.feature_dim) == (11, 8)
    out = net.outputs(images, batch_size=2)  # batches > 1 although the graph was built for 1
    np.testing.assert_allclose(out.features, pools, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out.probs, probs, atol=1e-6)

    from_tgz = C.load_inception(str(tmp_path / C.INCEPTION_TGZ_FILE), softmax_bias=True)
    np.testing.assert_allclose(from_tgz.predict_probs(images), biased, atol=1e-6)
    from_dir = C.load_inception(str(tmp_path))  # a directory holding the .pb
    assert from_dir.info["path"] == str(pb)
    gray = images[..., :1]  # grayscale images are tiled to RGB
    np.testing.assert_allclose(net.features(gray), _reference_outputs(graph_def, np.repeat(gray, 3, -1))[0],
                               rtol=1e-5, atol=1e-5)  # fmt: skip


def test_inception_missing_or_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=C.INCEPTION_GRAPH_FILE) as e:
        C.load_inception(str(tmp_path / "nothing.pb"))
    assert C.KERAS_INCEPTION_FILE in str(e.value) and "cannot be downloaded" in str(e.value)
    with pytest.raises(FileNotFoundError, match="no Inception weights in directory"):
        C.load_inception(str(tmp_path))
    (tmp_path / "junk.pb").write_bytes(b"not a graph at all")
    with pytest.raises(ValueError):
        C.load_inception(str(tmp_path / "junk.pb"))


def test_keras_standin_model_resizes_and_takes_penultimate(tmp_path):
    layers = keras.layers
    inputs = keras.Input((20, 20, 3))
    h = layers.Conv2D(4, 3, activation="relu")(inputs)
    h = layers.GlobalAveragePooling2D(name="avg_pool")(h)
    outputs = layers.Dense(6, activation="softmax", name="predictions")(h)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "standin.keras"
    model.save(path)
    net = C.load_inception(str(path))
    assert net.info["kind"] == "keras_model" and (net.num_classes, net.feature_dim) == (6, 4)
    images = np.random.default_rng(2).uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
    x = tf.image.resize(np.repeat(images, 3, -1), (20, 20), method="bilinear")
    probe = keras.Model(inputs, [h, outputs])
    feats, probs = (t.numpy() for t in probe(x))
    out = net.outputs(images)
    np.testing.assert_allclose(out.probs, probs, atol=1e-6)
    np.testing.assert_allclose(out.features, feats, atol=1e-6)


@pytest.mark.slow  # InceptionV3 at 299x299 on CPU: ~10-30 s
def test_keras_inception_v3_weights_file(tmp_path):
    model = keras.applications.InceptionV3(weights=None)  # random weights: the format is the point
    path = tmp_path / "inception_v3.weights.h5"
    model.save_weights(path)
    net = C.load_inception(str(path))
    assert net.info["kind"] == "keras_inception_v3" and net.info["top"] is True
    assert (net.num_classes, net.feature_dim) == (1000, 2048)
    images = np.random.default_rng(3).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    expected = model(tf.image.resize(images, (299, 299)), training=False).numpy()
    np.testing.assert_allclose(net.predict_probs(images), expected, atol=1e-6)
