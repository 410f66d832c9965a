#!/usr/bin/env bash
# The lab demo README's Quick start gives: installs what is missing, builds
# mesh-site, then runs the two-site scenario (netns-lab/two-site.sh), which
# cleans up after itself, also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target mesh-site
exec bash netns-lab/two-site.sh --binary "$PWD/build/tools/mesh-site" "$@"
