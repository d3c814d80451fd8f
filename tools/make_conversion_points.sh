#!/bin/bash
# Precomputes what the Convert view shows beside its live figures, for the trained MHA
# model (assets/models/mha-fortunes):
#   assets/models/conversions/mha-fortunes-sweep.csv     held-out loss over a grid of d_c and r,
#                                                        converted without fine-tuning
#   assets/models/conversions/mha-fortunes-finetune.csv  a few points converted, then
#                                                        fine-tuned with `mla-lab train --init`
# Needs the full fortunes corpus (assets/models/CORPUS.md says how to build it).
#
#   tools/make_conversion_points.sh build/bin/mla-lab /tmp/fortunes.txt [STEPS]
set -euo pipefail
BIN=${1:?give the mla-lab binary}
CORPUS=${2:?give the fortunes corpus (assets/models/CORPUS.md)}
STEPS=${3:-400}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SRC=$HERE/assets/models/mha-fortunes
OUT=$HERE/assets/models/conversions
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
# one sweep per strategy that the view can show, in one table
"$BIN" convert --model "$SRC" --sweep --csv "$WORK/sweep-high.csv"
"$BIN" convert --model "$SRC" --sweep --rope-strategy norm --csv "$WORK/sweep-norm.csv"
{ cat "$WORK/sweep-high.csv"; tail -n +2 "$WORK/sweep-norm.csv"; } > "$OUT/mha-fortunes-sweep.csv"
echo "kv_lora_rank,rope_pairs,rope_strategy,svd,cache_elements_per_token,val_loss_bits_converted,val_loss_bits_finetuned,finetune_steps,finetune_bytes" > "$WORK/ft.csv"
# (d_c, r, strategy): 40 elements per layer = the MLA model trained from scratch (d_c 32 + d_r 8), then less and more
for pt in "32 1 high" "32 1 norm" "24 2 high" "24 2 norm" "16 2 high" "32 4 high" "32 4 norm"; do
  set -- $pt
  C=$1 R=$2 S=$3
  "$BIN" convert --model "$SRC" --kv-lora-rank "$C" --rope-pairs "$R" --rope-strategy "$S" --out "$WORK/c$C-r$R" --json > "$WORK/c$C-r$R.json"
  "$BIN" eval --model "$WORK/c$C-r$R" --heldout "$HERE/assets/models/fortunes-heldout.txt" --seq-len 256 --windows 64 --json > "$WORK/c$C-r$R.eval.json"
  "$BIN" train --init "$WORK/c$C-r$R" --corpus "$CORPUS" --steps "$STEPS" --batch 8 --seq 256 --lr 0.002 --warmup 20 \
      --eval-every 100 --checkpoint-every "$STEPS" --threads 1 --sample-tokens 0 --restart --out "$WORK/c$C-r$R-ft" 2> "$WORK/c$C-r$R.train.log"
  python3 - "$C" "$R" "$WORK/c$C-r$R.json" "$WORK/c$C-r$R.eval.json" "$WORK/c$C-r$R-ft/train.csv" "$STEPS" >> "$WORK/ft.csv" <<'PY'
import json, math, sys
c, r, conv, ev, csv, steps = sys.argv[1:]
conv = json.load(open(conv)); ev = json.load(open(ev))
last = open(csv).read().strip().splitlines()[-1].split(",")
after = float(last[2]) / math.log(2)
before = ev["loss"]["absorbed"]["fp32"]
elems = conv["cache_bytes_per_token"]["after"] // 4
print(f"{c},{r},{conv['rope_strategy']},{conv['svd']},{elems},{before:.6f},{after:.6f},{steps},{last[3]}")
PY
done
mv "$WORK/ft.csv" "$OUT/mha-fortunes-finetune.csv"
cat "$OUT/mha-fortunes-finetune.csv"
