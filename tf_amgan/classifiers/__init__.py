"""Networks that score generated images; beside `networks/`, not under the pure `metrics/`.

base.py        the `Classifier` interface; the 2-D mixtures' exact posterior
inception.py   ImageNet Inception (TF graph or Keras weights) for IS / FID
dataset.py     dataset classifiers (CNN, DenseNet-BC, MLP): recipes, training, loading
cli.py         their training command: python -m tf_amgan.classifiers
"""

from tf_amgan.classifiers.base import (
    CLASSIFIER_FILE,
    DEFAULT_BATCH,
    FORMAT,
    MODEL_FILE,
    Classifier,
    ClassifierOutputs,
    MixturePosterior,
)
from tf_amgan.classifiers.dataset import (
    RECIPES,
    DatasetClassifier,
    Recipe,
    default_arch,
    fit_classifier,
    load_classifier,
    train_classifier,
)
from tf_amgan.classifiers.inception import (
    INCEPTION_GRAPH_FILE,
    INCEPTION_TGZ_FILE,
    KERAS_INCEPTION_FILE,
    InceptionGraphClassifier,
    KerasImageClassifier,
    find_inception_weights,
    load_inception,
)
from tf_amgan.classifiers.networks import (
    build_classifier,
    build_cnn,
    build_densenet_bc,
    build_mlp,
)

__all__ = [
    "CLASSIFIER_FILE",
    "DEFAULT_BATCH",
    "FORMAT",
    "INCEPTION_GRAPH_FILE",
    "INCEPTION_TGZ_FILE",
    "KERAS_INCEPTION_FILE",
    "MODEL_FILE",
    "RECIPES",
    "Classifier",
    "ClassifierOutputs",
    "DatasetClassifier",
    "InceptionGraphClassifier",
    "KerasImageClassifier",
    "MixturePosterior",
    "Recipe",
    "build_classifier",
    "build_cnn",
    "build_densenet_bc",
    "build_mlp",
    "default_arch",
    "find_inception_weights",
    "fit_classifier",
    "load_classifier",
    "load_inception",
    "train_classifier",
]
