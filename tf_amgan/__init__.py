"""tf-amgan: class-label GANs (AM-GAN, LabelGAN / K+1 GAN, AC-GAN family, Mode GAN, CGPGAN).

Submodules are imported lazily so that `import tf_amgan` stays cheap and never touches devices.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("losses", "data", "networks", "metrics")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'tf_amgan' has no attribute {name!r}")
