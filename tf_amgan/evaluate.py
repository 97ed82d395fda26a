"""`python -m tf_amgan.evaluate`: the evaluation command (tf_amgan.evaluation.cli)."""

from tf_amgan.evaluation.cli import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    raise SystemExit(run())
