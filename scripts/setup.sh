#!/usr/bin/env bash
# Installs everything tf-amgan needs on a fresh Debian machine with Python 3.11:
# Debian's offline Fashion-MNIST (used by the quickstart and the tests) and the package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
python -m pip install -q --disable-pip-version-check -e '.[cpu,test]'
