#!/usr/bin/env bash
# Installs the peer programs that kizon's benchmarks run side by side with kizon.
# Python peers go into a virtual environment ($PEERS_VENV, default /tmp/kizon-peers-venv);
# the R peer (pROC, the reference ROC package) comes from Debian.
# Usage: bench/peers/setup.sh   then   $PEERS_VENV/bin/python bench/peers/<peer>.py ...
set -euo pipefail
venv="${PEERS_VENV:-/tmp/kizon-peers-venv}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install -q --disable-pip-version-check \
  pydicom==3.0.2 pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle pyjpegls \
  numpy scipy scikit-learn statsmodels ImageHash Pillow dicognito==0.19.0
if ! Rscript -e 'library(pROC)' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-base-core r-cran-proc >/dev/null
  else
    echo "R with pROC missing: run as root or install r-base-core r-cran-proc" >&2
  fi
fi
echo "peers ready: $venv/bin/python; Rscript with pROC: $(Rscript -e 'cat(as.character(packageVersion("pROC")))' 2>/dev/null || echo missing)"
