"""Samples from anywhere (npz / npy arrays, image folders, foreign SavedModels), the real-data
row and intra-class FID: conversions, errors, and round trips that must give the same metrics."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import image_config
from PIL import Image

from tf_amgan import classifiers as C
from tf_amgan import data, evaluate, evaluation, train
from tf_amgan.evaluation import external as X
from tf_amgan.metrics import fid as fid_lib
from tf_amgan.metrics import scores

ROUND_TRIP = ("is", "is_std", "is_full", "am", "am_std", "acc", "msssim_max", "msssim_mean")


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cls") / "fashion_mnist"
    C.train_classifier("fashion_mnist", str(out), epochs=1, max_train_samples=1000, seed=0)
    return str(out)


@pytest.fixture(scope="module")
def classifier(classifier_dir):
    return C.load_classifier(classifier_dir)


@pytest.fixture(scope="module")
def predefined_export(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pre")
    cfg = image_config(tmp, model="acgan_plus", labeling="predefined", export_dir=str(tmp / "exp"))
    return train.run(cfg, log=lambda *a: None).export_path


def _collect(source, n, batch_size, seed=0):
    parts = list(source.batches(n, batch_size, seed))
    labels = None if parts[0].labels is None else np.concatenate([b.labels for b in parts])
    return np.concatenate([b.images for b in parts]), labels


def _options(n, metrics=("is", "am", "acc", "msssim"), **kw):
    return evaluation.EvalOptions(metrics=metrics, num_samples=n, batch_size=64, msssim_pairs=20,
                                  **kw)  # fmt: skip


def _to_uint8(images):
    return np.round(images * 127.5 + 127.5).clip(0, 255).astype(np.uint8)


def _write_pngs(images, labels, root, per_class: bool):
    for i, image in enumerate(_to_uint8(images)):
        folder = os.path.join(root, f"{labels[i]}") if per_class else root
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(image[..., 0], mode="L").save(os.path.join(folder, f"{i:05d}.png"))


# ----------------------------------------------------------------------------------------------
# Value ranges and arrays.


def test_value_range_detection_and_conversion():
    assert X.detect_value_range(0, 255, np.uint8) == "0,255"
    assert X.detect_value_range(0.0, 1.0, np.float32) == "0,1"
    assert X.detect_value_range(-0.9, 0.3, np.float32) == "-1,1"
    assert X.detect_value_range(-1.0005, 1.0, np.float32) == "-1,1"  # within the tolerance
    assert X.detect_value_range(0.0, 200.0, np.float32) == "0,255"
    with pytest.raises(ValueError, match=r"fit none of the ranges"):
        X.detect_value_range(-3.0, 2.0, np.float32)
    with pytest.raises(ValueError, match="NaN or infinite"):
        X.detect_value_range(np.nan, 1.0, np.float32)
    u8 = np.array([0, 127, 128, 255], np.uint8)
    np.testing.assert_array_equal(X.to_unit_range(u8, "0,255"), data.to_float(u8))  # as training
    np.testing.assert_allclose(X.to_unit_range(np.array([0.0, 0.5, 1.0]), "0,1"), [-1, 0, 1])
    np.testing.assert_array_equal(X.to_unit_range(np.array([-1.0004, 0.25]), "-1,1"), [-1, 0.25])


def test_array_source_order_conversion_and_labels():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (50, 8, 8, 3)).astype(np.float32)
    labels = np.arange(50) % 5
    src = X.ArraySource(images, labels, channels=1, pad=2)
    info = src.describe()
    assert info["value_range"] == "0,1" and info["range_detected"] is True
    assert src.sample_shape == (12, 12, 1) and src.conditional and src.num_available == 50
    got, got_labels = _collect(src, 50, 16, seed=3)
    order = np.random.default_rng([3, 0x5A3]).permutation(50)
    luma = (images * 2 - 1) @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(got[:, 2:-2, 2:-2, 0], luma[order], atol=1e-6)
    assert np.all(got[:, :2] == -1.0) and np.all(got[:, :, -2:] == -1.0)  # black padding
    np.testing.assert_array_equal(got_labels, labels[order])
    # Same seed, same order; a subset is a prefix of the permutation; no shuffle: file order.
    again, _ = _collect(src, 20, 7, seed=3)
    np.testing.assert_array_equal(again, got[:20])
    plain = X.ArraySource(images, shuffle=False)
    first, none = _collect(plain, 10, 4)
    np.testing.assert_allclose(first, images[:10] * 2 - 1, atol=1e-6)
    assert none is None and not plain.conditional


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(images=np.zeros((4, 8, 8))), "add the channel axis"),
        (dict(images=np.zeros((0, 8, 8, 1))), "holds no images"),
        (dict(images=np.zeros((4, 8, 8, 2))), "2 channels"),
        (dict(images=np.zeros((4, 8, 8, 1)), labels=np.zeros(3, int)), "4 images but 3 labels"),
        (dict(images=np.zeros((4, 8, 8, 1)), labels=-np.ones(4, int)), "must be >= 0"),
        (dict(images=np.full((4, 8, 8, 1), 300.0)), "fit none of the ranges"),
        (dict(images=np.full((4, 8, 8, 1), 0.5), value_range="-1,1"), None),
        (
            dict(images=np.full((4, 8, 8, 1), 100.0), value_range="0,1"),
            r"outside the range \[0,1\]",
        ),
        (dict(images=np.zeros((4, 8, 8, 1)), value_range="0-1"), "value range must be"),
        (dict(images=np.zeros((4, 8, 8, 1), np.int64)), "uint8 or float"),
    ],
)
def test_array_source_errors(kwargs, match):
    if match is None:
        X.ArraySource(**kwargs)  # in range: accepted as given
        return
    with pytest.raises(ValueError, match=match):
        X.ArraySource(**kwargs)


def test_requesting_more_samples_than_held_is_an_error():
    src = X.ArraySource(np.zeros((10, 4, 4, 1), np.uint8), description={"path": "a.npz"})
    with pytest.raises(ValueError, match="11 samples requested but a.npz holds 10"):
        next(src.batches(11, 4, 0))


def test_open_array_npz_npy_keys_and_memory_map(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (20, 6, 6, 1), dtype=np.uint8)
    labels = np.arange(20) % 3
    np.savez(tmp_path / "plain.npz", x=images, y=labels)
    src = X.open_array(str(tmp_path / "plain.npz"))
    assert isinstance(src.images, np.memmap)  # uncompressed members are not read whole
    assert src.describe()["images_key"] == "x" and src.describe()["labels_key"] == "y"
    np.testing.assert_array_equal(np.asarray(src.images), images)
    np.testing.assert_array_equal(src.labels, labels)
    np.savez_compressed(tmp_path / "packed.npz", samples=images.astype(np.float32) / 255.0)
    packed = X.open_array(str(tmp_path / "packed.npz"))
    assert not packed.conditional and packed.value_range == "0,1"
    np.save(tmp_path / "a.npy", images)
    np.save(tmp_path / "l.npy", labels)
    npy = X.open_array(str(tmp_path / "a.npy"), labels_path=str(tmp_path / "l.npy"))
    assert isinstance(npy.images, np.memmap) and npy.conditional
    a, _ = _collect(npy, 20, 8)
    b, _ = _collect(src, 20, 8)
    np.testing.assert_array_equal(a, b)
    np.savez(tmp_path / "two.npz", a=images, b=images)
    with pytest.raises(ValueError, match="pass --images_key"):
        X.open_array(str(tmp_path / "two.npz"))
    with pytest.raises(ValueError, match="no array 'z'"):
        X.open_array(str(tmp_path / "plain.npz"), labels_key="z")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot read"):
        X.open_array(str(tmp_path / "bad.npz"))
    with pytest.raises(FileNotFoundError):
        X.open_array(str(tmp_path / "missing.npz"))


# ----------------------------------------------------------------------------------------------
# Folders.


def test_folder_source_labels_errors_and_skipping(tmp_path):
    rng = np.random.default_rng(2)
    images = rng.uniform(-1, 1, (12, 8, 8, 1)).astype(np.float32)
    labels = np.arange(12) % 3
    root = tmp_path / "classes"
    _write_pngs(images, labels, str(root), per_class=True)
    src = X.FolderSource(str(root), shuffle=False)
    assert src.conditional and src.num_available == 12 and src.sample_shape == (8, 8, 1)
    got, got_labels = _collect(src, 12, 5)
    order = np.argsort(labels, kind="stable")  # files in class folders, then by name
    np.testing.assert_array_equal(got_labels, labels[order])
    np.testing.assert_array_equal(got, data.to_float(_to_uint8(images)[order]))

    # Named class folders are numbered in sorted order; RGB files become grey on request.
    named = tmp_path / "named"
    for k, name in enumerate(("shirt", "bag")):
        os.makedirs(named / name)
        Image.fromarray(np.full((8, 8, 3), 40 * k, np.uint8)).save(named / name / "a.png")
    nsrc = X.FolderSource(str(named), channels=1)
    assert nsrc.describe()["class_names"] == {"0": "bag", "1": "shirt"}
    assert nsrc.sample_shape == (8, 8, 1)

    (root / "1" / "broken.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="cannot read image .*broken.png"):
        _collect(X.FolderSource(str(root), shuffle=False), 13, 5)
    skipping = X.FolderSource(str(root), on_error="skip", shuffle=False)
    got2, _ = _collect(skipping, 12, 5)
    np.testing.assert_array_equal(got2, got)
    assert skipping.describe()["skipped"] == 1
    with pytest.raises(ValueError, match="only 12 readable images"):
        _collect(skipping, 13, 5)
    os.remove(root / "1" / "broken.png")
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(root / "2" / "odd.png")
    with pytest.raises(ValueError, match=r"odd.png has shape \(9, 9, 1\)"):
        _collect(X.FolderSource(str(root), on_error="fail", shuffle=False), 13, 20)

    os.makedirs(tmp_path / "empty" / "sub")
    with pytest.raises(ValueError, match="no PNG / JPEG files"):
        X.FolderSource(str(tmp_path / "empty"))
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "top.png")
    with pytest.raises(ValueError, match="image files and class subfolders"):
        X.FolderSource(str(root))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        X.FolderSource(str(tmp_path / "nothing"))


# ----------------------------------------------------------------------------------------------
# Foreign SavedModels.


class _ForeignGenerator(tf.Module):
    """A stand-in for another tool's export: NCHW output in [0, 1], one-hot labels, odd names."""

    def __init__(self):
        super().__init__()
        self.w = tf.Variable(tf.random.stateless_normal([6 + 4, 64], [1, 2]))

    @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32, name="z"),
                                  tf.TensorSpec([None, 4], tf.float32, name="y_onehot")])  # fmt: skip
    def generate(self, z, y_onehot):
        h = tf.sigmoid(tf.concat([z, y_onehot], 1) @ self.w)
        return {"img": tf.reshape(h, [-1, 1, 8, 8]), "aux": tf.reduce_sum(h, 1)}


def test_foreign_saved_model_source(tmp_path):
    module = _ForeignGenerator()
    path = str(tmp_path / "foreign")
    tf.saved_model.save(module, path, signatures={"gen": module.generate})
    src = X.ForeignSavedModelSource(path, signature="gen", label_input="y_onehot",
                                    output_name="img")  # fmt: skip
    info = src.describe()
    assert info["layout"] == "nchw" and info["value_range"] == "0,1" and info["input"] == "z"
    assert src.num_classes == 4 and src.conditional and src.sample_shape == (8, 8, 1)
    images, labels = _collect(src, 10, 4, seed=5)
    z = tf.random.stateless_normal([4, 6], tf.constant([5, 2], tf.int64))  # batch 1
    y = tf.random.stateless_uniform([4], tf.constant([5, 3], tf.int64), 0, 4, dtype=tf.int32)
    expected = module.generate(z, tf.one_hot(y, 4))["img"].numpy().transpose(0, 2, 3, 1) * 2 - 1
    np.testing.assert_allclose(images[4:8], expected, atol=1e-6)
    np.testing.assert_array_equal(labels[4:8], y.numpy())
    for kwargs, match in (
        (dict(signature="nope"), "no signature 'nope'.*gen"),
        (dict(signature="gen"), "inputs we do not feed: y_onehot"),
        (dict(signature="gen", label_input="y_onehot"), "several outputs.*--saved_model_output"),
        (dict(signature="gen", label_input="y_onehot", output_name="x"), "no output 'x'"),
        (dict(signature="gen", label_input="y_onehot", output_name="aux"), "expected images"),
        (dict(signature="gen", label_input="y_onehot", output_name="img", value_range="0,255",
              num_classes=5), "one-hot over 4 classes"),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=match):
            X.ForeignSavedModelSource(path, **kwargs)
    with pytest.raises(FileNotFoundError, match="not a SavedModel"):
        X.ForeignSavedModelSource(str(tmp_path))


# ----------------------------------------------------------------------------------------------
# Round trips: a run's SavedModel, its samples as npz and as PNG files give the same metrics.


def test_round_trip_saved_model_npz_png(predefined_export, classifier, tmp_path):
    n = 240
    native = evaluation.SavedModelSource(predefined_export)
    reference = evaluation.evaluate(native, _options(n), classifier=classifier).metrics
    images, labels = _collect(native, n, 64)

    np.savez(tmp_path / "float.npz", images=images, labels=labels)
    npz = X.open_array(str(tmp_path / "float.npz"), shuffle=False)
    assert npz.value_range == "-1,1" and npz.describe()["range_detected"]
    got = evaluation.evaluate(npz, _options(n), classifier=classifier).metrics
    for key in ROUND_TRIP:
        assert got[key] == pytest.approx(reference[key], rel=1e-9, abs=1e-12), key

    # The tf-amgan export called as a foreign SavedModel (serving_default, our input names).
    foreign = X.ForeignSavedModelSource(predefined_export, input_name="noise",
                                        label_input="labels", output_name="images",
                                        num_classes=10)  # fmt: skip
    f_images, f_labels = _collect(foreign, n, 64)
    np.savez(tmp_path / "foreign.npz", images=f_images, labels=f_labels)
    f_ref = evaluation.evaluate(foreign, _options(n), classifier=classifier).metrics
    f_npz = evaluation.evaluate(X.open_array(str(tmp_path / "foreign.npz"), shuffle=False),
                                _options(n), classifier=classifier).metrics  # fmt: skip
    for key in ROUND_TRIP:
        assert f_npz[key] == pytest.approx(f_ref[key], rel=1e-9, abs=1e-12), key

    # PNG: 8-bit quantization. The same bytes as a uint8 npz give identical metrics.
    _write_pngs(images, labels, str(tmp_path / "flat"), per_class=False)
    np.savez(tmp_path / "u8.npz", images=_to_uint8(images), labels=labels)
    u8 = evaluation.evaluate(X.open_array(str(tmp_path / "u8.npz"), shuffle=False), _options(n),
                             classifier=classifier).metrics  # fmt: skip
    flat_src = X.FolderSource(str(tmp_path / "flat"), shuffle=False)
    assert not flat_src.conditional
    flat = evaluation.evaluate(flat_src, _options(n, ("is", "am", "msssim"), msssim_grouping="classifier"),
                               classifier=classifier).metrics  # fmt: skip
    u8_cls = evaluation.evaluate(X.open_array(str(tmp_path / "u8.npz"), labels_key="",
                                              shuffle=False),
                                 _options(n, ("is", "am", "msssim"), msssim_grouping="classifier"),
                                 classifier=classifier).metrics  # fmt: skip
    for key in ("is", "is_std", "am", "msssim_max"):
        assert flat[key] == pytest.approx(u8_cls[key], rel=1e-9, abs=1e-12), key
    for key in ("is_full", "am", "acc", "msssim_mean"):  # quantization only
        assert u8[key] == pytest.approx(reference[key], rel=0.02, abs=0.01), key

    # Class subfolders give the labels back; order-free metrics equal the uint8 npz's.
    _write_pngs(images, labels, str(tmp_path / "classes"), per_class=True)
    per_class = evaluation.evaluate(X.FolderSource(str(tmp_path / "classes")), _options(n),
                                    classifier=classifier)  # fmt: skip
    assert per_class.meta["acc_reference"] == "conditioning_label"
    for key in ("is_full", "am", "acc"):
        assert per_class.metrics[key] == pytest.approx(u8[key], rel=1e-9, abs=1e-12), key


# ----------------------------------------------------------------------------------------------
# The real-data row and intra-class FID.


def test_real_data_row_matches_the_classifier(classifier, classifier_dir):
    src = X.RealDataSource("fashion_mnist", data_options={"pad_to_32": True})
    assert src.describe()["type"] == "real" and src.num_available == 10000
    n = 2000
    result = evaluation.evaluate(src, evaluation.EvalOptions(metrics=("is", "am", "acc"),
                                                             num_samples=n, batch_size=500),
                                 classifier=classifier)  # fmt: skip
    images, labels = _collect(src, n, 500)
    probs = classifier.predict_probs(images)
    am = scores.am_score(probs, classifier.class_prior)
    assert result.metrics["am"] == pytest.approx(am.score, rel=1e-6)
    assert result.metrics["is_full"] == pytest.approx(scores.inception_score(probs).score, rel=1e-6)
    assert result.metrics["acc_overall"] == pytest.approx(np.mean(probs.argmax(1) == labels))
    assert result.meta["acc_reference"] == "conditioning_label"


def test_intra_fid_is_zero_for_identical_per_class_sets(tmp_path):
    rng = np.random.default_rng(4)
    features = rng.normal(size=(900, 6)) @ rng.normal(size=(6, 6))
    labels = rng.integers(0, 3, 900)
    same = fid_lib.intra_fid(features, labels, features[::-1], labels[::-1])
    assert abs(same.mean) < 1e-8 and abs(same.max) < 1e-8 and same.missing == ()
    shifted = fid_lib.intra_fid(features, labels, features + (labels == 1)[:, None] * 2.0, labels)
    assert shifted.argmax == 1 and shifted.max == pytest.approx(6 * 4.0, rel=1e-6)
    assert shifted.per_class[0] == pytest.approx(0, abs=1e-8)
    assert shifted.mean == pytest.approx(shifted.max / 3, rel=1e-6)
    # A class the generator never makes is reported as missing, not averaged away.
    partial = fid_lib.intra_fid(features, labels, features[labels != 2], labels[labels != 2],
                                num_classes=4)  # fmt: skip
    assert partial.missing == (2, 3) and np.isnan(partial.per_class[2]) and partial.max < 1e-8
    stats = fid_lib.ClassFeatureStatistics(3).update(features, labels)
    stats.save(str(tmp_path / "s.npz"))
    loaded = fid_lib.ClassFeatureStatistics.load(str(tmp_path / "s.npz"))
    np.testing.assert_array_equal(loaded.counts, np.bincount(labels, minlength=3))
    again = fid_lib.intra_fid_from_statistics(loaded, stats)
    assert abs(again.max) < 1e-8
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        stats.update(features[:2], [0, 3])


def test_real_data_row_for_reports(classifier):
    row = X.real_data_row("fashion_mnist", classifier=classifier, num_samples=1000, real_samples=2000,
                          data_options={"pad_to_32": True}, batch_size=250)  # fmt: skip
    metrics = row["metrics"]
    for key in ("is", "am", "acc", "msssim_max", "fid"):
        assert np.isfinite(metrics[key]), key
    assert (
        row["meta"]["source"]["path"] == "fashion_mnist:test" and row["meta"]["num_samples"] == 1000
    )
    assert row["meta"]["acc_reference"] == "conditioning_label"
    assert row["meta"]["msssim_grouping"] == "conditioning"
    assert 0 <= metrics["fid"] < 5.0 and 0 < metrics["msssim_max"] < 1
    with pytest.raises(ValueError, match="no metric left"):
        X.real_data_row("fashion_mnist", metrics=("am",), data_options={"pad_to_32": True})


REAL_CLASSIFIER = os.environ.get("TF_AMGAN_FASHION_CLASSIFIER", "classifiers/fashion_mnist")


@pytest.mark.slow
def test_real_data_row_with_the_trained_classifier():
    """The real-data ceiling with the project's Fashion-MNIST CNN: AM Score near 0, IS and
    accuracy equal to the classifier's own values on the test set."""
    if not os.path.isfile(os.path.join(REAL_CLASSIFIER, "classifier.json")):
        pytest.skip(f"no trained classifier at {REAL_CLASSIFIER} (TF_AMGAN_FASHION_CLASSIFIER)")
    clf = C.load_classifier(REAL_CLASSIFIER)
    row = X.real_data_row("fashion_mnist", classifier=clf, data_options={"pad_to_32": True},
                          metrics=("is", "am", "acc", "msssim", "fid"))  # fmt: skip
    m = row["metrics"]
    test_images, _ = data.load_arrays("fashion_mnist", "test", pad_to_32=True)
    own_is = scores.inception_score(clf.predict_probs(test_images)).score
    assert m["is_full"] == pytest.approx(own_is, rel=1e-6)
    assert m["acc_overall"] == pytest.approx(clf.info["test_accuracy"], abs=1e-9)
    assert 0 <= m["am"] < 0.3 and m["am_kl"] < 1e-3  # C̄(test) ≈ C̄^train; AM ≈ mean entropy
    assert m["is"] > 8.0 and m["fid"] < 1.0


# ----------------------------------------------------------------------------------------------
# The command: every source type, intra-FID, P004's IS protocol.


def _main(argv, capsys):
    code = evaluate.main(argv)
    captured = capsys.readouterr()
    return code, captured.out.strip().splitlines(), captured.err.strip().splitlines()


def test_command_on_npz_folder_real_and_foreign(predefined_export, classifier_dir, tmp_path,
                                                capsys):  # fmt: skip
    native = evaluation.SavedModelSource(predefined_export)
    images, labels = _collect(native, 300, 100)
    np.savez(tmp_path / "s.npz", images=images * 0.5 + 0.5, labels=labels)  # [0, 1] floats
    common = [f"--classifier={classifier_dir}", "--batch_size=100", "--real_samples=2000",
              "--noprogress"]  # fmt: skip
    code, out, err = _main([f"--generator={tmp_path / 's.npz'}", "--metrics=am,acc,intra_fid",
                            *common], capsys)  # fmt: skip
    assert code == 0, err
    rec = json.loads(out[0])
    src = rec["meta"]["source"]
    assert src["type"] == "npz" and src["value_range"] == "0,1" and src["range_detected"]
    assert (
        rec["meta"]["num_samples"] == 300 and rec["meta"]["intra_fid"]["grouping"] == "conditioning"
    )
    assert rec["intra_fid"] <= rec["intra_fid_max"] and rec["meta"]["output"].endswith(
        "s.npz.eval.json"
    )
    assert os.path.isfile(tmp_path / "s.npz.eval.json")

    _write_pngs(images, labels, str(tmp_path / "png"), per_class=True)
    code, out, err = _main([f"--generator={tmp_path / 'png'}", "--metrics=am,acc", *common], capsys)
    assert code == 0, err
    png = json.loads(out[0])
    assert png["meta"]["source"]["type"] == "folder" and png["acc"] == pytest.approx(
        rec["acc"], abs=0.02
    )

    code, out, err = _main(["--generator=real", "--metrics=is,am,acc,fid,intra_fid",
                            "--num_samples=1000", *common], capsys)  # fmt: skip
    assert code == 0, err
    real = json.loads(out[0])
    assert real["meta"]["source"]["type"] == "real" and real["meta"]["output"] is None
    assert real["fid"] < 5.0 and real["intra_fid"] >= 0.0

    code, out, err = _main([f"--generator={predefined_export}", "--saved_model_signature=serving_default",
                            "--saved_model_input=noise", "--saved_model_label_input=labels",
                            "--saved_model_output=images", "--num_samples=200", "--metrics=am,acc",
                            f"--output={tmp_path / 'f.json'}", *common], capsys)  # fmt: skip
    assert code == 0, err
    foreign = json.loads(out[0])["meta"]["source"]
    assert foreign["type"] == "foreign_saved_model" and foreign["num_classes"] == 10

    for argv, expected in (
        ([f"--generator={tmp_path / 's.npz'}", "--num_samples=301"], "301 samples requested"),
        ([f"--generator={tmp_path / 's.npz'}", "--sample_range=-1,1", "--metrics=am"], None),
        ([f"--generator={tmp_path / 's.npz'}", "--sample_range=0,255", "--sample_channels=3",
          "--metrics=am"], "takes inputs of shape (32, 32, 1)"),
        ([f"--generator={predefined_export}", "--saved_model_signature=nope"], "no signature 'nope'"),
        ([f"--generator={tmp_path / 'empty'}"], "does not exist"),
        (["--generator=real", "--metrics=is"], "needs the data set"),
    ):  # fmt: skip
        if expected is None:  # [0, 1] data read as [-1, 1] is accepted (in range), as asked
            assert _main(argv + common, capsys)[0] == 0
            continue
        extra = common if argv[0] != "--generator=real" else ["--noprogress"]
        code, out, err = _main(argv + extra, capsys)
        assert code == 2 and out == [] and len(err) == 1 and expected in err[0], (argv, err)


def test_p004_protocol_from_the_command(predefined_export, classifier_dir, tmp_path, capsys):
    code, out, err = _main([f"--generator={predefined_export}", f"--classifier={classifier_dir}",
                            "--metrics=is", "--is_protocol=p004", "--num_samples=200",
                            "--p004_report_samples=100", "--batch_size=64", "--noprogress",
                            f"--output={tmp_path / 'p.json'}"], capsys)  # fmt: skip
    assert code == 0, err
    rec = json.loads(out[0])
    assert rec["meta"]["is_protocol"]["report_samples"] == 100
    # Reference: the same 300 samples' predictions through scores.inception_score_p004.
    images, _ = _collect(evaluation.SavedModelSource(predefined_export), 300, 64)
    probs = C.load_classifier(classifier_dir).predict_probs(images)
    ref = scores.inception_score_p004(probs[:200], probs[200:], seed=0)
    assert rec["is_p004"] == pytest.approx(ref.report_mean, rel=1e-6)
    assert rec["is_p004_select"] == pytest.approx(ref.select_mean, rel=1e-6)
    assert rec["is_p004_std"] == pytest.approx(ref.report_std, rel=1e-5)
    # The select set is the usual evaluation: its full-set IS matches a plain run.
    code, out, _ = _main([f"--generator={predefined_export}", f"--classifier={classifier_dir}",
                          "--metrics=is", "--num_samples=200", "--batch_size=64", "--noprogress",
                          f"--output={tmp_path / 'p.json'}"], capsys)  # fmt: skip
    assert json.loads(out[0])["is_full"] == pytest.approx(rec["is_full"], rel=1e-9)
