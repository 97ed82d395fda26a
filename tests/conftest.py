"""Test-session set-up: CPU only, quiet TF, two logical CPU devices for strategy tests, no network."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""
# tfds must never try to reach the network from a test.
os.environ["TF_AMGAN_NO_DOWNLOAD"] = "1"
os.environ.setdefault("NO_GCE_CHECK", "true")
# Prepared tfds data goes to a per-session directory, not the user's ~/tensorflow_datasets.
if "TF_AMGAN_DATA_DIR" not in os.environ:
    import tempfile

    os.environ["TF_AMGAN_DATA_DIR"] = tempfile.mkdtemp(prefix="tf_amgan_test_data_")

import tensorflow as tf  # noqa: E402

# Must run before any op executes: splits the one physical CPU into two logical devices so that
# MirroredStrategy tests see two replicas. Single-device code runs on /CPU:0 as usual.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)
