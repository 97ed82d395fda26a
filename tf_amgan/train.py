"""One training run wired end to end: the training loop (tf_amgan.training.experiment) with the
periodic evaluator (tf_amgan.evaluation) and the export on finish (tf_amgan.export).

The training layer imports neither: this module hands them to `experiment.run`. Used by the train
command (run_experiment.py), the studies and the tests.
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
    """Runs and maps failures to one clear line and an exit code (used by run_experiment.py)."""
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
