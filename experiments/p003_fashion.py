"""P003 §4.2 (spec X-11) at CPU size on Fashion-MNIST: CGPGAN's lambda_creg sweep, d_c = 32.

    python -m tf_amgan.classifiers --dataset=fashion_mnist --output_dir=classifiers/fashion_mnist
    python experiments/p003_fashion.py --classifier=classifiers/fashion_mnist [--flagfiles=...]

Trains each flagfile with the ordinary engine and restores it (tf_amgan.study.runreport.run_sweep;
existing run directories are resumed, finished ones only re-evaluated), then writes to --out, per
run:
  <name>.png   one row per category with P(C) >= 1% (most probable first), 10 samples each, the
               same noise in every row
  <name>.json  final P(C), its entropy, the number of categories >= 1% (P003 omits the others);
               the clustering accuracy of the classifier Q on the test split against the true
               labels (Hungarian matching; not a P003 number, E-14a); FID and precision / recall
               (k = 3) of --eval_samples generated images, categories drawn from the final P(C),
               against --real_samples training images (E-8/E-9: P003 uses 32k of each), on the
               features of the --classifier network (P003 uses Inception; so do we when
               --inception_weights is given)
and table.md / results.json for the sweep. Without --classifier FID / precision / recall are not
computed (null in the JSON, "-" in the table). With the defaults (32k / 32k / 10k) and the
Fashion-MNIST CNN the evaluation takes about 1 minute per run on 2 busy CPU cores (the real
features are cached next to the classifier after the first run).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SWEEP = [f"flags/p003_fashion_creg{v}.cfg" for v in (50, 70, 100, 120)]


def report(run, args, networks) -> dict:
    from tf_amgan import data, evaluation
    from tf_amgan.evaluation import category_eval
    from tf_amgan.training import experiment, samples

    cfg, trainer = run.config, run.trainer
    probs = trainer.prior.probs().numpy().astype(float)
    images, order = experiment.category_rows(trainer, 10, by_prior=True)
    samples.save_grid(os.path.join(args.out, f"{run.name}.png"), images, 10)
    order = [k for k in order if probs[k] > 0.01]  # the grid's fallback rows are not "active"
    test_images, labels = data.load_arrays(
        cfg.dataset, "test", data_dir=cfg.data_dir, download=cfg.download_arg, **cfg.data_options
    )
    q = category_eval.classifier_clustering_accuracy(
        trainer, test_images[: args.test_images], labels[: args.test_images]
    )
    rep = {
        "name": run.name,
        "model": cfg.model,
        "lambda_creg": cfg.lambda_creg,
        "train_steps": cfg.train_steps,
        "seconds": run.seconds,
        "num_active": len(order),
        "active_categories": order,
        "active_prior": [round(probs[k], 4) for k in order],
        "prior_entropy": float(-np.sum(probs[probs > 0] * np.log(probs[probs > 0]))),
        "prior": probs.round(6).tolist(),
        "q_clustering_accuracy": q["clustering_accuracy"],
        "q_clusters_used": q["clusters_used"],
        "q_test_images": int(min(args.test_images, len(labels))),
        "fid": None,
        "precision": None,
        "recall": None,
    }
    if networks is not None:
        classifier, inception = networks
        options = evaluation.EvalOptions(
            metrics=("fid", "prd"), num_samples=args.eval_samples, batch_size=500, seed=cfg.seed,
            prd_samples=args.prd_samples, real_split="train", real_samples=args.real_samples,
            data_dir=cfg.data_dir, download=cfg.download_arg,
        )  # fmt: skip
        result = evaluation.evaluate(
            run.source, options, classifier=classifier, inception=inception,
            dataset=cfg.dataset, data_options=cfg.data_options,
        )  # fmt: skip
        rep.update(
            fid=result.metrics["fid"],
            precision=result.metrics["precision"],
            recall=result.metrics["recall"],
            eval={
                "feature_network": result.meta["feature_network"],
                "network": (inception or classifier).describe(),
                "num_samples": args.eval_samples,
                "real_samples": result.meta["real"]["num_samples"],
                "prd_samples": result.meta["prd"]["num_samples"],
                "prd_k": result.meta["prd"]["k"],
                "seconds": round(result.meta["seconds"], 1),
            },
        )
    return rep


def table(reports) -> str:
    from tf_amgan.study.runreport import cell, markdown_table

    header = ["run", "lambda_creg", "#categories >= 1%", "P(C) (>= 1%, descending)", "entropy",
              "Q clustering acc. (test)", "FID", "precision", "recall", "steps",
              "time (s)"]  # fmt: skip
    rows = []
    for r in reports:
        probs = ", ".join(f"{p:.4f}" for p in r["active_prior"])
        rows.append([r["name"], r["lambda_creg"], r["num_active"], f"[{probs}]",
                     f"{r['prior_entropy']:.3f}", cell(r["q_clustering_accuracy"], ".4f"),
                     cell(r["fid"], ".4f"), cell(r["precision"], ".4f"), cell(r["recall"], ".4f"),
                     r["train_steps"], r["seconds"]])  # fmt: skip
    text = markdown_table(header, rows)
    evals = [r["eval"] for r in reports if r.get("eval")]
    if evals:
        e = evals[-1]
        text += (
            f"\nFID / precision / recall (k = {e['prd_k']}): {e['num_samples']} generated images "
            f"(categories from the final P(C)) vs {e['real_samples']} training images, features of "
            f"the {e['feature_network']} network {e['network'].get('path')}; precision / recall "
            f"on {e['prd_samples']} of each. Not comparable to P003's Inception numbers.\n"
        )
    return text


def load_networks(args):
    """(classifier, inception) for FID / P&R, or None without --classifier / --inception_weights."""
    from tf_amgan import classifiers

    if not args.classifier and not args.inception_weights:
        print("no --classifier: FID / precision / recall are not computed", file=sys.stderr)
        return None
    classifier = classifiers.load_classifier(args.classifier) if args.classifier else None
    if classifier is not None and classifier.info.get("dataset") not in (None, "fashion_mnist"):
        raise SystemExit(
            f"error: --classifier={args.classifier} was trained on "
            f"{classifier.info['dataset']!r}, not fashion_mnist"
        )
    inception = None
    if args.inception_weights:
        inception = classifiers.load_inception(args.inception_weights)
    return classifier, inception


def main(argv=None) -> int:
    from tf_amgan.study import runreport

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    runreport.add_arguments(parser, SWEEP, "results/p003_fashion")
    parser.add_argument("--classifier", default=None,
                        help="Fashion-MNIST classifier dir (tf_amgan.classifiers) whose "
                             "features FID / precision / recall use")  # fmt: skip
    parser.add_argument("--inception_weights", default=None,
                        help="use the Inception network for the features instead")  # fmt: skip
    parser.add_argument("--eval_samples", type=int, default=32000, help="generated images (E-8)")
    parser.add_argument("--real_samples", type=int, default=32000, help="real training images")
    parser.add_argument("--prd_samples", type=int, default=10000,
                        help="images of each side for precision / recall (O(n^2) distances)")  # fmt: skip
    parser.add_argument("--test_images", type=int, default=5000,
                        help="test images for Q's clustering accuracy")  # fmt: skip
    args = parser.parse_args(argv)
    for name in ("eval_samples", "real_samples", "prd_samples", "test_images"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    networks = load_networks(args)
    runreport.run_sweep(args, lambda run: report(run, args, networks), table, root=ROOT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
