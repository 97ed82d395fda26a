"""One training run wired end to end: the training loop (tf_amgan.training.experiment) with the
periodic evaluator (tf_amgan.evaluation) and the export on finish (tf_amgan.export).

The training layer imports neither: this module hands them to `experiment.run`. Used by the train
command, the studies and the tests. The command:

    python run_experiment.py --flagfile=flags/quickstart.cfg [--model=amgan ...]
    tf-amgan-train ...               (console script, same flags)

Its flags are tf_amgan.training.flags (`--helpfull` lists them all).
"""

from __future__ import annotations

import json
import sys

from tf_amgan.training import config as config_lib
from tf_amgan.training import experiment


def run(config: config_lib.Config, log=print, evaluator=None) -> experiment.RunResult:
    """Trains (or resumes) `config`'s run with its `--eval_every` evaluator and `--export_dir`
    export; `evaluator` overrides the one built from the config."""
    from tf_amgan import export

    if evaluator is None and config.eval_every:
        from tf_amgan import evaluation

        try:  # loads the classifier: a bad --classifier fails here, before anything is written
            evaluator = evaluation.make_periodic_evaluator(config, log=log)
        except (ValueError, FileNotFoundError) as e:
            raise config_lib.ConfigError(f"--eval_every: {e}") from e
    return experiment.run(
        config, log=log, evaluator=evaluator, on_finish=export.exporter(config, log=log)
    )


def main_cli(config: config_lib.Config) -> int:
    """Runs and maps failures to one clear line and an exit code."""
    from tf_amgan import data

    unavailable = getattr(data, "DatasetUnavailableError", ())
    try:
        result = run(config)
    except (config_lib.ConfigError, unavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result.status == "completed":
        print(
            json.dumps({"status": result.status, "step": result.step, "export": result.export_path})
        )
    return result.exit_code


def main(argv) -> int:
    """absl.app main of the train command: parsed FLAGS -> Config -> run."""
    from absl import flags, logging

    # tfds and SavedModel writing log at INFO through absl; keep the console for progress.
    logging.set_verbosity(logging.WARNING)
    if len(argv) > 1:
        print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
        return 2
    try:
        cfg = config_lib.Config.from_flags(flags.FLAGS)
    except config_lib.ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return main_cli(cfg)


def run_cli(prog: str = "tf-amgan-train") -> None:
    """Console-script entry point (`tf-amgan-train`; run_experiment.py calls it too)."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from absl import app

    from tf_amgan import commandline
    from tf_amgan.training import flags as flag_defs

    flag_defs.define_flags()
    app.run(main, flags_parser=commandline.app_flags_parser(prog, __doc__, flag_defs))
