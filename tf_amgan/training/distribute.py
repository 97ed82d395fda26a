"""The one place that builds tf.distribute strategies."""

from __future__ import annotations

import json
import os

import tensorflow as tf


def setup_logical_cpus(n: int) -> None:
    """Splits the first CPU into `n` logical devices (MirroredStrategy tests on CPU).

    Must run before TensorFlow initialises its devices; a second call with the same `n` is a no-op.
    """
    if n <= 1:
        return
    cpus = tf.config.list_physical_devices("CPU")
    current = tf.config.get_logical_device_configuration(cpus[0])
    if current is not None and len(current) == n:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        )
    except RuntimeError as e:  # devices already initialised with another layout
        raise RuntimeError(
            f"cannot split the CPU into {n} logical devices after TensorFlow started: {e}"
        ) from e


_MIRRORED: dict = {}


def get_strategy(name: str, devices: tuple[str, ...] | None = None) -> tf.distribute.Strategy:
    """Returns the strategy for `--strategy`: default | mirrored | multi_worker."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if not devices:
            gpus = tf.config.list_logical_devices("GPU")
            devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        key = tuple(tf.DeviceSpec.from_string(d).to_string() for d in devices)
        # One MirroredStrategy per device set and process: two instances over the same devices
        # can collide on collective instance keys (seen with synchronized batch norm).
        if key not in _MIRRORED:
            _MIRRORED[key] = tf.distribute.MirroredStrategy(list(devices))
        return _MIRRORED[key]
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("--strategy=multi_worker needs the TF_CONFIG environment variable")
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.AUTO
        )
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    raise ValueError(f"unknown strategy {name!r}; choose default, mirrored or multi_worker")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the worker that writes checkpoints, logs and exports."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None:
        return True
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    if "chief" in cluster:
        return task_type == "chief"
    return task_type == "worker" and task_id == 0
