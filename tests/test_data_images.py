"""Image data through tensorflow-datasets (spec D-1..D-3), offline builders, errors, determinism.

No test touches the network: the tfds path of cifar10 is fed by a fake prepared builder in a temp
data_dir, Fashion-MNIST comes from (small copies of) Debian's idx files, Tiny-ImageNet from a small
zip with the real archive layout, and the network probe is replaced where downloads are allowed.
"""

import gzip
import io
import os
import socket
import tempfile
import time
import zipfile

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tf_amgan import data
from tf_amgan.data import builders, images, registry

N_TRAIN, N_TEST = 50, 20
_REAL_PROBE = registry.network_reachable  # saved before the autouse fixture replaces it


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def refuse(host, port, timeout=0):
        raise AssertionError(f"test tried to probe {host}:{port}")

    monkeypatch.setattr(registry, "network_reachable", refuse)


def _fake_cifar10(data_dir):
    """Prepares a 50/20-example 'cifar10' with tfds' real Cifar10 features and version."""
    from tensorflow_datasets.image_classification import cifar

    rng = np.random.default_rng(0)
    splits = {}
    for split, n, offset in (("train", N_TRAIN, 0), ("test", N_TEST, 100)):
        x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
        x[:, 0, 0, 0] = np.arange(n) + offset  # identity marker
        splits[split] = (x, np.arange(n) % 10)

    with tfds.core.registered.skip_registration():

        class FakeCifar10(cifar.Cifar10):
            name = "cifar10"

            def _split_generators(self, dl_manager):
                return {k: self._fake(k, *v) for k, v in splits.items()}

            def _fake(self, split, x, y):
                for i in range(len(y)):
                    yield i, {"id": f"{split}_{i:05d}", "image": x[i], "label": int(y[i])}

    config = tfds.download.DownloadConfig(try_download_gcs=False)
    FakeCifar10(data_dir=str(data_dir)).download_and_prepare(download_config=config)
    return splits


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tfds")
    with pytest.MonkeyPatch.context() as mp:  # tfds leaks an empty mkdtemp() per new builder
        mp.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tfds_tmp")))
        return str(path), _fake_cifar10(path)


def _marker(x):
    """Identity marker of float images: pixel [0, 0, 0] back to uint8."""
    return np.rint(np.asarray(x)[:, 0, 0, 0] * 127.5 + 127.5).astype(int)


def _batches(data_dir, n, **kw):
    ds = data.get_dataset("cifar10", data_dir=data_dir, **kw)
    return [(x.numpy(), y.numpy()) for x, y in ds.take(n)]


# ------------------------------------------------------------------------------------ tfds load path
def test_cifar10_loads_through_tfds_from_a_prepared_data_dir(cifar_dir):
    data_dir, splits = cifar_dir
    x, y = data.load_arrays("cifar10", data_dir=data_dir, download=False)
    assert x.shape == (N_TRAIN, 32, 32, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert x.min() >= -1.0 and x.max() <= 1.0
    raw_x, raw_y = splits["train"]
    order = np.argsort(_marker(x))  # tfds stores examples in its own (hashed) order
    np.testing.assert_array_equal(np.rint(x[order] * 127.5 + 127.5).astype(np.uint8), raw_x)
    np.testing.assert_array_equal(y[order], raw_y)
    np.testing.assert_allclose(data.to_float(raw_x[:1])[0, 0, 0], (raw_x[0, 0, 0] - 127.5) / 127.5)
    xt, _ = data.load_arrays("cifar10", split="test", data_dir=data_dir)
    assert xt.shape == (N_TEST, 32, 32, 3) and sorted(_marker(xt)) == list(range(100, 100 + N_TEST))
    u8, _ = data.load_arrays("cifar10", data_dir=data_dir, normalize=False)
    assert u8.dtype == np.uint8 and not u8.flags.writeable
    np.testing.assert_allclose(data.class_prior("cifar10", data_dir=data_dir, from_data=True), 0.1)


def test_batch_reader_equals_tfds_load(cifar_dir, monkeypatch):
    data_dir, _ = cifar_dir
    ref_x, ref_y = tfds.as_numpy(
        tfds.load(
            "cifar10",
            split="train",
            data_dir=data_dir,
            download=False,
            as_supervised=True,
            batch_size=-1,
        )
    )
    u8, y = data.load_arrays("cifar10", data_dir=data_dir, normalize=False)
    np.testing.assert_array_equal(u8, ref_x)
    np.testing.assert_array_equal(y, ref_y)
    # The per-example tfds.load fallback gives the same arrays.
    monkeypatch.setattr(images, "_vectorized_batches", lambda info, split: None)
    u8_slow, y_slow = images._read_split("cifar10", "train", data_dir, (32, 32, 3))
    np.testing.assert_array_equal(u8_slow, ref_x)
    np.testing.assert_array_equal(y_slow, ref_y)
    with pytest.raises(ValueError, match="splits"):
        data.load_arrays("cifar10", split="validation", data_dir=data_dir)


def test_default_data_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TF_AMGAN_DATA_DIR", str(tmp_path))
    assert data.resolve_data_dir(None) == str(tmp_path)
    monkeypatch.delenv("TF_AMGAN_DATA_DIR")
    assert data.resolve_data_dir(None) == os.path.expanduser("~/tensorflow_datasets")
    assert data.resolve_data_dir("rel") == os.path.abspath("rel")


# ------------------------------------------------------------------------------------ determinism
def test_same_seed_same_batches_and_shapes(cifar_dir):
    data_dir, _ = cifar_dir
    a = _batches(data_dir, 12, batch_size=8, seed=3)
    b = _batches(data_dir, 12, batch_size=8, seed=3)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert xa.shape == (8, 32, 32, 3) and xa.dtype == np.float32 and ya.dtype == np.int32
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    c = _batches(data_dir, 12, batch_size=8, seed=4)
    assert not all(np.array_equal(p[0], q[0]) for p, q in zip(a, c, strict=True))


def test_start_step_resumes_exactly_and_without_reading_skipped_batches(cifar_dir):
    data_dir, _ = cifar_dir
    full = _batches(data_dir, 15, batch_size=8, seed=3)
    resumed = _batches(data_dir, 8, batch_size=8, seed=3, start_step=7)
    for (xf, yf), (xr, yr) in zip(full[7:], resumed, strict=True):
        np.testing.assert_array_equal(xf, xr)
        np.testing.assert_array_equal(yf, yr)
    start = time.perf_counter()
    far = _batches(data_dir, 2, batch_size=8, seed=3, start_step=10**12)
    assert time.perf_counter() - start < 2.0  # random access, not 10^12 skipped batches
    one_before = _batches(data_dir, 2, batch_size=8, seed=3, start_step=10**12 - 1)
    np.testing.assert_array_equal(far[0][0], one_before[1][0])


def test_every_example_once_per_epoch_and_epochs_reshuffled(cifar_dir):
    data_dir, _ = cifar_dir
    # B = 8 does not divide N = 50, so batches straddle epoch boundaries.
    stream = np.concatenate([_marker(x) for x, _ in _batches(data_dir, 25, batch_size=8, seed=0)])
    epochs = stream[: 4 * N_TRAIN].reshape(4, N_TRAIN)
    for epoch in epochs:
        assert sorted(epoch) == list(range(N_TRAIN))
    assert len({tuple(e) for e in epochs}) == 4
    # Labels travel with their images.
    x, y = _batches(data_dir, 1, batch_size=50, seed=0)[0]
    np.testing.assert_array_equal(y, _marker(x) % 10)


def test_unshuffled_and_single_epoch_modes(cifar_dir):
    data_dir, _ = cifar_dir
    stored, _ = data.load_arrays("cifar10", data_dir=data_dir)
    ordered = _batches(data_dir, 7, batch_size=10, shuffle=False)
    stream = np.concatenate([_marker(x) for x, _ in ordered])
    np.testing.assert_array_equal(stream[:N_TRAIN], _marker(stored))
    np.testing.assert_array_equal(stream[N_TRAIN:], _marker(stored)[:20])

    once = data.get_dataset("cifar10", data_dir=data_dir, batch_size=8, repeat=False)
    sizes = [int(y.shape[0]) for _, y in once]
    assert sizes == [8] * 6
    once = data.get_dataset(
        "cifar10", data_dir=data_dir, batch_size=8, repeat=False, drop_remainder=False
    )
    seen = np.concatenate([_marker(x) for x, _ in once])
    assert sorted(seen) == list(range(N_TRAIN))
    resumed = data.get_dataset(
        "cifar10", data_dir=data_dir, batch_size=8, repeat=False, drop_remainder=False, start_step=5
    )
    assert [int(y.shape[0]) for _, y in resumed] == [8, 2]


def test_pipeline_distributes_over_two_replicas(cifar_dir):
    data_dir, _ = cifar_dir
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    ds = data.get_dataset("cifar10", data_dir=data_dir, batch_size=8, seed=1)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dist = iter(strategy.experimental_distribute_dataset(ds.with_options(options)))
    x, y = next(dist)
    parts = strategy.experimental_local_results(x)
    assert len(parts) == 2 and all(p.shape == (4, 32, 32, 3) for p in parts)
    expected = _batches(data_dir, 1, batch_size=8, seed=1)[0][0]
    np.testing.assert_array_equal(np.concatenate([p.numpy() for p in parts]), expected)


# ------------------------------------------------------------------------------------ missing data
def _assert_clean(data_dir):
    left = [p for p in os.listdir(data_dir) if "incomplete" in p] if os.path.isdir(data_dir) else []
    assert not left, left


def test_missing_cifar10_fails_fast_with_one_clear_error(tmp_path):
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError) as err:
        data.get_dataset("cifar10", batch_size=8, data_dir=str(tmp_path))  # env forbids downloads
    assert time.perf_counter() - start < 5.0
    message = str(err.value)
    assert isinstance(err.value, ValueError)
    assert "TF_AMGAN_NO_DOWNLOAD=1" in message and str(tmp_path) in message
    assert (
        "--dataset=fashion_mnist" in message and "apt-get install dataset-fashion-mnist" in message
    )
    assert os.listdir(tmp_path) == []


def test_auto_download_probes_the_host_and_fails_fast_when_offline(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_AMGAN_NO_DOWNLOAD")
    probed = []
    monkeypatch.setattr(
        registry, "network_reachable", lambda h, p, timeout=0: probed.append(h) or False
    )
    with pytest.raises(
        data.DatasetUnavailableError, match="no network access to www.cs.toronto.edu"
    ):
        data.load_arrays("cifar10", data_dir=str(tmp_path))
    assert probed == ["www.cs.toronto.edu"]
    with pytest.raises(data.DatasetUnavailableError, match="download=False"):
        data.load_arrays("mnist", data_dir=str(tmp_path), download=False)
    assert probed == ["www.cs.toronto.edu"]  # download=False never probes


def test_env_var_overrides_download_true(tmp_path, monkeypatch):
    monkeypatch.setattr(builders, "prepare_atomically", lambda *a, **k: pytest.fail("downloaded"))
    with pytest.raises(data.DatasetUnavailableError, match="TF_AMGAN_NO_DOWNLOAD"):
        data.load_arrays("cifar100", data_dir=str(tmp_path), download=True)


def test_failed_download_is_wrapped_and_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_AMGAN_NO_DOWNLOAD")
    monkeypatch.setattr(registry, "network_reachable", lambda h, p, timeout=0: True)

    def broken_download(self, *args, **kwargs):
        os.makedirs(os.path.join(str(self.data_dir), "partial"), exist_ok=True)
        raise ConnectionError("connection reset")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", broken_download)
    with pytest.raises(data.DatasetUnavailableError, match="connection reset"):
        data.load_arrays("mnist", data_dir=str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_network_probe_against_local_sockets():
    registry._PROBES.clear()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        assert _REAL_PROBE("127.0.0.1", port, timeout=1.0)
    finally:
        server.close()
    assert _REAL_PROBE("127.0.0.1", port, timeout=1.0)  # cached per process
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free_port = closed.getsockname()[1]
    closed.close()
    start = time.perf_counter()
    assert not _REAL_PROBE("127.0.0.1", free_port, timeout=1.0)
    assert time.perf_counter() - start < 1.5
    registry._PROBES.clear()


# ------------------------------------------------------------------------------------ Fashion-MNIST
def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _small_fashion(manual_dir, n=(30, 10)):
    rng = np.random.default_rng(1)
    raw = {}
    for (split, (img_name, lbl_name)), count in zip(
        builders.FASHION_MNIST_FILES.items(), n, strict=True
    ):
        x = rng.integers(1, 256, size=(count, 28, 28), dtype=np.uint8)
        y = np.arange(count) % 10
        _write_idx(os.path.join(manual_dir, img_name + ".gz"), x)
        _write_idx(os.path.join(manual_dir, lbl_name + ".gz"), y)
        raw[split] = (x, y)
    return raw


def test_read_idx_round_trip(tmp_path):
    x = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(str(tmp_path / "a.gz"), x)
    np.testing.assert_array_equal(builders.read_idx(str(tmp_path / "a.gz")), x)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="uint8"):
        builders.read_idx(str(tmp_path / "bad"))


def test_fashion_mnist_manual_builder_prepares_once_and_pads(tmp_path):
    manual, data_dir = tmp_path / "manual", tmp_path / "tfds"
    manual.mkdir()
    raw = _small_fashion(str(manual))
    x, y = data.load_arrays(
        "fashion_mnist", data_dir=str(data_dir), manual_dir=str(manual), normalize=False
    )
    assert x.shape == (30, 32, 32, 1) and x.dtype == np.uint8
    assert (
        np.all(x[:, :2] == 0)
        and np.all(x[:, -2:] == 0)
        and np.all(x[:, :, :2] == 0)
        and np.all(x[:, :, -2:] == 0)
    )
    assert np.all(x[:, 2:-2, 2:-2] > 0)
    np.testing.assert_array_equal(x[:, 2:-2, 2:-2, 0], raw["train"][0])
    np.testing.assert_array_equal(y, raw["train"][1])
    assert sorted(os.listdir(data_dir)) == ["local_fashion_mnist"]  # temp dir gone
    assert os.listdir(data_dir / "local_fashion_mnist") == ["1.0.0"]

    flat, _ = data.load_arrays(
        "fashion_mnist", split="test", data_dir=str(data_dir), pad_to_32=False
    )
    assert flat.shape == (10, 28, 28, 1) and flat.dtype == np.float32
    assert flat.min() >= -1 and flat.max() <= 1
    # Prepared data is reused even after the manual files are gone.
    for f in manual.iterdir():
        f.unlink()
    images.clear_cache()
    ds = data.get_dataset(
        "fashion_mnist", batch_size=4, data_dir=str(data_dir), manual_dir=str(manual)
    )
    xb, yb = next(iter(ds))
    assert xb.shape == (4, 32, 32, 1) and yb.dtype == tf.int32
    np.testing.assert_allclose(xb.numpy()[:, 0, 0, 0], -1.0)  # zero padding maps to -1


def test_fashion_mnist_without_local_files_or_network(tmp_path):
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError, match="apt-get install dataset-fashion-mnist"):
        data.load_arrays("fashion_mnist", data_dir=str(tmp_path / "tfds"), manual_dir=str(tmp_path))
    assert time.perf_counter() - start < 5.0


def test_full_debian_fashion_mnist(tmp_path):
    debian = builders.DEBIAN_FASHION_MNIST_DIR
    assert os.path.exists(os.path.join(debian, "train-images-idx3-ubyte.gz")), (
        "Debian's dataset-fashion-mnist is not installed: run scripts/setup.sh"
    )
    data_dir = str(tmp_path)
    x, y = data.load_arrays("fashion_mnist", data_dir=data_dir, normalize=False)  # prepares once
    assert x.shape == (60000, 32, 32, 1) and y.shape == (60000,)
    np.testing.assert_array_equal(np.bincount(y), 6000)
    # Stored in the idx files' order, pixel for pixel.
    np.testing.assert_array_equal(
        x[:, 2:-2, 2:-2, 0], builders.read_idx(os.path.join(debian, "train-images-idx3-ubyte.gz"))
    )
    np.testing.assert_array_equal(
        y, builders.read_idx(os.path.join(debian, "train-labels-idx1-ubyte.gz"))
    )
    assert not np.any(x[:, :2]) and not np.any(x[:, :, -2:])
    images.clear_cache()
    start = time.perf_counter()
    xt, yt = data.load_arrays("fashion_mnist", split="test", data_dir=data_dir)
    x2, _ = data.load_arrays("fashion_mnist", data_dir=data_dir, normalize=False)
    assert time.perf_counter() - start < 20.0  # both splits from prepared TFRecords
    assert xt.shape == (10000, 32, 32, 1) and np.bincount(yt).tolist() == [1000] * 10
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_allclose(
        data.class_prior("fashion_mnist", data_dir=data_dir, from_data=True), 0.1
    )


# ------------------------------------------------------------------------------------ Tiny-ImageNet
def _jpeg(array):
    buf = io.BytesIO()
    PIL.Image.fromarray(array).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _tiny_zip(path, per_class=2, val_per_class=1, classes=200):
    rng = np.random.default_rng(2)
    wnids = [f"n{i:08d}" for i in range(classes)]
    root = "tiny-imagenet-200"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{root}/wnids.txt", "\n".join(wnids) + "\n")
        zf.writestr(f"{root}/words.txt", "".join(f"{w}\tthing {i}\n" for i, w in enumerate(wnids)))
        for c, w in enumerate(wnids):
            boxes = []
            for j in range(per_class):
                # Smooth image (JPEG-friendly), brightness encodes the class.
                img = np.full((64, 64, 3), c, np.uint8)
                img[:, :32] += 40
                if c == 0 and j == 0:
                    zf.writestr(
                        f"{root}/train/{w}/images/{w}_{j}.JPEG", _jpeg(img[..., 0])
                    )  # grayscale
                else:
                    zf.writestr(f"{root}/train/{w}/images/{w}_{j}.JPEG", _jpeg(img))
                boxes.append(f"{w}_{j}.JPEG\t0\t0\t63\t63\n")
            zf.writestr(f"{root}/train/{w}/{w}_boxes.txt", "".join(boxes))
        lines = []
        for c, w in enumerate(wnids):
            for j in range(val_per_class):
                name = f"val_{c * val_per_class + j}.JPEG"
                zf.writestr(
                    f"{root}/val/images/{name}",
                    _jpeg(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)),
                )
                lines.append(f"{name}\t{w}\t0\t0\t63\t63\n")
        zf.writestr(f"{root}/val/val_annotations.txt", "".join(lines))
        zf.writestr(f"{root}/test/images/test_0.JPEG", _jpeg(np.zeros((64, 64, 3), np.uint8)))
    return wnids


def test_tiny_imagenet_builder_from_a_zip(tmp_path):
    manual, data_dir = tmp_path / "manual", str(tmp_path / "tfds")
    manual.mkdir()
    wnids = _tiny_zip(str(manual / "tiny-imagenet-200.zip"))
    x, y = data.load_arrays(
        "tiny_imagenet", data_dir=data_dir, manual_dir=str(manual), normalize=False
    )
    assert x.shape == (400, 32, 32, 3) and x.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y, minlength=200), 2)
    # Class = position in wnids.txt; brightness encodes it (±JPEG error); the grayscale JPEG got 3 channels.
    np.testing.assert_allclose(x[:, :, 20:].mean(axis=(1, 2, 3)), y, atol=2.0)
    big, big_y = data.load_arrays(
        "tiny_imagenet", data_dir=data_dir, manual_dir=str(manual), image_size=64, normalize=False
    )
    np.testing.assert_array_equal(big_y, y)
    pooled = big.reshape(400, 32, 2, 32, 2, 3).astype(np.float64).mean(axis=(2, 4))
    assert np.max(np.abs(pooled - x)) <= 0.5 + 1e-9  # exact 2x2 area averages, rounded
    xv, yv = data.load_arrays(
        "tiny_imagenet", split="test", data_dir=data_dir, manual_dir=str(manual)
    )
    assert xv.shape == (200, 32, 32, 3) and sorted(yv) == list(range(200))
    builder = tfds.builder("tiny_imagenet", data_dir=data_dir)
    assert builder.info.features["label"].names == wnids
    assert set(builder.info.splits) == {"train", "validation"}


def test_tiny_imagenet_missing_or_corrupt_zip(tmp_path):
    manual, data_dir = tmp_path / "manual", tmp_path / "tfds"
    manual.mkdir()
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError, match="tiny-imagenet-200.zip") as err:
        data.get_dataset(
            "tiny_imagenet", batch_size=4, data_dir=str(data_dir), manual_dir=str(manual)
        )
    assert time.perf_counter() - start < 5.0
    assert "cs231n.stanford.edu" in str(err.value) and str(manual) in str(err.value)
    with zipfile.ZipFile(manual / "tiny-imagenet-200.zip", "w") as zf:
        zf.writestr("tiny-imagenet-200/wnids.txt", "n0001\nn0002\n")
    with pytest.raises(data.DatasetUnavailableError, match="expected 200"):
        data.load_arrays("tiny_imagenet", data_dir=str(data_dir), manual_dir=str(manual))
    _assert_clean(str(data_dir))
    assert not os.path.exists(data_dir / "tiny_imagenet")
