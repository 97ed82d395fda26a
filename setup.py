"""tf-amgan: class-label GANs (AM-GAN, LabelGAN, AC-GAN family, Mode GAN, CGPGAN) for TF 2 / Keras 3."""

from setuptools import find_packages, setup

setup(
    name="tf-amgan",
    version="0.1.0",
    description="Activation Maximization GAN and related class-label GANs in TensorFlow 2 / Keras 3",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["tf_amgan", "tf_amgan.*"]),
    python_requires=">=3.11",
    # TensorFlow itself comes from an extra, because pip cannot swap a base requirement for
    # another build: `.[cpu]` (tensorflow-cpu) or `.[gpu]` (tensorflow with CUDA); see BUILD.md.
    install_requires=[
        "keras>=3.12,<4",
        "tensorflow-datasets>=4.9.10,<5",
        # tfds 4.9.x imports it at load time on Python 3.11 but does not declare it.
        "importlib_resources>=6",
        "absl-py>=2.1",
        "numpy>=1.26,<3",
        "scipy>=1.11",
        "pillow>=10",
        # tf.summary.scalar/image live in the tensorboard package, which tensorflow-cpu does not pull.
        "tensorboard>=2.19",
        # Study reports (training curves); headless Agg backend.
        "matplotlib>=3.8",
        # Progress bars on a terminal (also pulled in by tensorflow-datasets).
        "tqdm>=4.60",
    ],
    extras_require={
        "cpu": ["tensorflow-cpu>=2.21,<2.22"],
        "gpu": ["tensorflow[and-cuda]>=2.21,<2.22"],
        "test": ["pytest>=8", "pytest-xdist>=3.5", "scikit-learn>=1.4", "ruff>=0.5"],
        # benchmarks/compare_torch.py only. Pinned: this version is the CPU build on the project's
        # machines; an unpinned `torch` resolves to a multi-GB CUDA build.
        "bench": ["torch==2.13.0"],
    },
    entry_points={
        "console_scripts": [
            "tf-amgan-train=tf_amgan.train:run_cli",
            "tf-amgan-evaluate=tf_amgan.evaluation.cli:run",
            "tf-amgan-export=tf_amgan.export:run",
            "tf-amgan-study=tf_amgan.study.cli:run",
            "tf-amgan-classifier=tf_amgan.classifiers.cli:run",
        ]
    },
)
