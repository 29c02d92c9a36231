#!/usr/bin/env bash
# Every GPU figure benchmarks/RESULTS.md still lacks, in stages that each fit one command of the device tool
# (/work/.library/device: at most 10 minutes a command, 15 minutes of device time a session, start-up
# included). Its machines hold PyTorch but not textual, platformdirs, tomli-w or torch-fidelity (and maybe
# no rich or markdown-it-py as new as textual 8 asks for), and cannot download: those travel as wheels,
# Fashion-MNIST and MNIST as their IDX files (.data/fashion-mnist, .data/mnist: 42 MB).
#
# Here, once:      bash benchmarks/gpu_session.sh prepare      # fills .whl/ and .data/ (both git-ignored)
# There, a stage:  bash benchmarks/gpu_session.sh A            # with carry: [".whl", ".data"], timeout_s 590
#
# Stages, by the issue each one completes, with the time each is planned to take:
#   A  engine and GPU speed (about 5 min): gpu_throughput.py (reference loop vs ours, batch 64 and 1024),
#      gpu_dcgan_fashion.py
#   B  dashboard and evaluation (about 4 min): dashboard_overhead.py on dcgan-fashion, eval_stall.py
#      (Inception, domain), eval_speed.py
#   C  zoo, CycleGAN (about 2 min): cyclegan_quality.py for 60 s
#   D  zoo, images (about 7 min): zoo_quality.py, every image profile of the zoo for 20 s of training each
#   E  zoo, toys (about 5 min): zoo_toys.py, 5 seeds of ring8, grid25, unrolled-ring8 and vanilla-ring8
#      for 45 s each (the 5 seeds at once)
#   F  zoo, conditional profiles for longer (about 6 min): zoo_quality.py on cgan-fashion, projection-fashion
#      and biggan-fashion for 90 s each, since on the CPU cgan-fashion was still below 90% of samples of the
#      asked class at step 6,000 (RESULTS.md)
# A first session with a GPU runs A, B and C; the next runs D and E; a third, F. Each benchmark has its own time limit,
# so a hang leaves the rest of the stage and its log intact.
# Each stage writes its log and JSON results under $OUT (at most 8 files come back) and benchmarks/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:?"usage: gpu_session.sh prepare|A|B|C|D|E|F"}

if [ "$stage" = prepare ]; then
  rm -rf .whl && mkdir -p .whl .data
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl textual==8.2.8 mdit-py-plugins==0.7.0 platformdirs==4.14.7 tomli-w==1.2.0 torch-fidelity==0.4.0 \
    rich==15.0.0 markdown-it-py==4.3.0
  rm -f .data/*-ubyte*  # Fashion-MNIST's files sat at the top before MNIST came along in .data/mnist
  mkdir -p .data/fashion-mnist && cp /usr/share/datasets/fashion-mnist/*-ubyte* .data/fashion-mnist/
  .ci/get-mnist .data/mnist  # for mnist-dcgan in stage D
  ls -la .whl .data/*
  exit 0
fi

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1 GAN_TUI_DATA="$PWD/.data" GAN_TUI_OFFLINE=1
out=${OUT:-benchmarks/results}
mkdir -p "$out" benchmarks/results
log="$out/stage-$stage.log"
started=$(mktemp)  # results newer than this file are this stage's
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || echo "no nvidia-smi"; } | tee "$log"

# One benchmark, with its own time limit so that a hang leaves the rest of the stage (and its log) intact.
bench() { local limit=$1; shift; echo "== $* (limit ${limit}s)" | tee -a "$log"
          timeout "$limit" python3 "$@" 2>&1 | tee -a "$log" || echo "== exit $? from $*" | tee -a "$log"; }

case $stage in
  A) bench 330 benchmarks/gpu_throughput.py --data .data --seconds 10
     bench 200 benchmarks/gpu_dcgan_fashion.py --data .data --steps 5000 ;;
  B) bench 200 benchmarks/dashboard_overhead.py --profile dcgan-fashion --seconds 20 --repeats 2 --no-record
     bench 120 benchmarks/eval_stall.py --device cuda --features inception --data .data
     bench 90 benchmarks/eval_stall.py --device cuda --features domain --data .data
     bench 90 benchmarks/eval_speed.py --device cuda --data .data ;;
  C) bench 240 benchmarks/cyclegan_quality.py --budget-s 60 --device cuda --data .data ;;
  D) bench 570 benchmarks/zoo_quality.py --budget-s 20 --device cuda --data .data ;;
  E) bench 570 benchmarks/zoo_toys.py --budget-s 45 --device cuda --jobs 5 ;;
  F) bench 570 benchmarks/zoo_quality.py --budget-s 90 --device cuda --data .data --out benchmarks/results/long \
       --profiles cgan-fashion projection-fashion biggan-fashion ;;
  *) echo "unknown stage $stage: use prepare or A-F" >&2; exit 2 ;;
esac
# The newest JSON results of this stage come back with the log (the device tool returns at most 8 files).
find benchmarks/results -name '*.json' -newer "$started" -print0 | xargs -0 -r ls -t | head -7 | xargs -r -I{} cp {} "$out"/
ls -la "$out"
