"""Issue 5 acceptance: 4-cluster CGPGAN (lambda_creg = 0.1) assigns each cluster its own category.

P003 §4.1 / X-10: with lambda_creg = 0.1 every cluster gets its own category and the final P(C)
(categories >= 1%) equals the cluster weights [0.1, 0.2, 0.3, 0.4]. This trains the CPU-scale
schedule of flags/p003_clusters4_creg0p1.cfg (60k steps at batch 16, about 5 minutes on 2 cores)
through the ordinary engine, with the flagfile's fixed seed.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import data, train
from tf_amgan.evaluation import category_eval
from tf_amgan.training import config as config_lib
from tf_amgan.training import distribute
from tf_amgan.training import trainer as trainer_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_cgpgan_four_clusters_four_categories(tmp_path):
    cfg = config_lib.Config.from_flagfile(
        os.path.join(ROOT, "flags", "p003_clusters4_creg0p1.cfg"),
        output_dir=str(tmp_path / "run"),
        sample_every=0,
        progress=False,
    ).validate()
    assert cfg.lambda_creg == 0.1 and cfg.num_categories == 16 and cfg.seed == 0
    assert train.run(cfg, log=lambda *a: None).status == "completed"
    info = data.get_info(cfg.dataset, **cfg.data_options)
    trainer = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    latest = tf.train.latest_checkpoint(os.path.join(cfg.output_dir, "checkpoints"))
    trainer.checkpoint.restore(latest).assert_existing_objects_matched()
    report = category_eval.category_report(trainer, seed=cfg.seed)
    # Four distinct categories, one per cluster, each generating (almost only) its cluster.
    assert len(report["active"]) == 4, report
    assert report["one_to_one"], report
    assert report["min_purity"] > 0.95, report
    # P(C) within 0.05 of the cluster weights (sorted).
    np.testing.assert_allclose(sorted(report["active_prior"]), [0.1, 0.2, 0.3, 0.4], atol=0.05)
    assert category_eval.prior_matches(report["active_prior"], [0.1, 0.2, 0.3, 0.4], 0.05)
    # Q clusters real data like the true components.
    assert report["q_clustering_accuracy"] > 0.95, report
