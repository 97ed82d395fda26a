"""python -m tf_amgan.study: the study command (tf_amgan.study.cli)."""

from tf_amgan.study.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
