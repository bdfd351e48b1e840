#!/usr/bin/env bash
# CLI tests of folder runs that fail part-way (docs/reliability.md): a folder with bad images (exit 2, reasons in
# metrics.json and index.html), kill -9 and Ctrl-C then --resume giving the bytes of one uninterrupted run (invert,
# features, decode), refused resumes, a removed output redone, a full disk (a small tmpfs; a file size limit where
# no tmpfs can be mounted), and the exit codes.
# Usage: PREIMAGE_BIN=path/to/preimage run_reliability_tests.sh tests/data weights/decoders/hog.safetensors
set -u
bin=${PREIMAGE_BIN:?set PREIMAGE_BIN}
data=${1:?data folder}
decoder=${2:?a decoder file}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/check.sh"
py=/usr/bin/python3

mkdir -p "$work/photos" "$work/mixed"
cp "$data"/decoder_photos/synthetic_*.png "$work/photos/"
cp "$data"/decoder_photos/synthetic_0.png "$data"/decoder_photos/synthetic_1.png "$work/mixed/"
cp "$data/corrupt/truncated.png" "$data/corrupt/text_named.jpg" "$work/mixed/"

# same_outputs NAME A B: every PNG and safetensors file of A has B's bytes, and the JSON files agree but for the
# timings.
same_outputs() {
  local name=$1 a=$2 b=$3 diff=""
  for f in "$a"/*.png "$a"/*.safetensors; do
    [ -e "$f" ] || continue
    cmp -s "$f" "$b/$(basename "$f")" || diff="$diff $(basename "$f")"
  done
  [ "$(ls "$a" | grep -c -E '\.(png|safetensors)$')" = "$(ls "$b" | grep -c -E '\.(png|safetensors)$')" ] ||
    diff="$diff (file count)"
  same_metrics "$a/metrics.json" "$b/metrics.json" || diff="$diff metrics.json"
  if [ -z "$diff" ]; then ok "$name"; else bad "$name: differ:$diff"; fi
}
# entries DIR: how many inputs DIR/metrics.json lists (0 when absent or unreadable)
entries() { "$py" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["images"]))' "$1/metrics.json" 2>/dev/null || echo 0; }
# wait_entries DIR N PID: until DIR/metrics.json lists N inputs or the process ends
wait_entries() { for _ in $(seq 1 1200); do [ "$(entries "$1")" -ge "$2" ] && return; kill -0 "$3" 2>/dev/null || return; sleep 0.02; done; }

base=(invert --rep hog --size 96 --threads 1)
# --batch 1: the kill -9 and Ctrl-C below land between images; the batched run is interrupted further down.
inv=("${base[@]}" --iters 300 --batch 1)

# --- a folder with bad images: the good ones done, the bad ones listed, exit 2 ---
"$bin" "${base[@]}" --iters 20 "$work/mixed" --out "$work/mixed_out" >"$work/log_m" 2>&1; rc=$?
[ $rc = 2 ] && ok "mixed folder: exit code 2" || bad "mixed folder: exit code $rc, expected 2"
grep -q "truncated.png" "$work/log_m" && grep -q "text_named.jpg" "$work/log_m" && ok "mixed folder: stderr names both" ||
  { bad "mixed folder: stderr names the bad files"; cat "$work/log_m"; }
if "$py" - "$work/mixed_out/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
err = {e["stem"]: e["error"] for e in m["images"] if isinstance(e.get("error"), str)}
good = [e["stem"] for e in m["images"] if "runs" in e]
assert m["failures"] == 2 and set(err) == {"truncated", "text_named"}, m
assert all(len(r) > 10 for r in err.values()) and sorted(good) == ["synthetic_0", "synthetic_1"], m
PY
then ok "mixed folder: metrics.json lists the failures with reasons"; else bad "mixed folder: metrics.json"; fi
[ -s "$work/mixed_out/synthetic_1.png" ] && [ ! -e "$work/mixed_out/truncated.png" ] &&
  [ "$(grep -c 'failed:' "$work/mixed_out/index.html")" = 2 ] && ok "mixed folder: outputs and gallery" ||
  bad "mixed folder: outputs and gallery"

# --- one uninterrupted run: the reference ---
"$bin" "${inv[@]}" "$work/photos" --out "$work/ref" >"$work/log_ref" 2>&1 && ok "invert: uninterrupted run" ||
  { bad "invert: uninterrupted run"; cat "$work/log_ref"; }

# --- kill -9 after the first image, then --resume ---
"$bin" "${inv[@]}" "$work/photos" --out "$work/killed" >"$work/log_k" 2>&1 &
pid=$!
wait_entries "$work/killed" 1 $pid
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done_before=$(entries "$work/killed")
if [ "$done_before" -ge 1 ] && [ "$done_before" -lt 4 ]; then ok "kill -9 landed mid-folder ($done_before of 4 done)"
else bad "kill -9 did not land mid-folder ($done_before of 4 done)"; fi
"$bin" "${inv[@]}" "$work/photos" --out "$work/killed" --resume >"$work/log_k2" 2>&1 && ok "invert --resume after kill -9" ||
  { bad "invert --resume after kill -9"; cat "$work/log_k2"; }
grep -q -- "--resume: $done_before of 4 inputs already done" "$work/log_k2" && ok "resume skipped the finished images" ||
  { bad "resume skipped the finished images"; cat "$work/log_k2"; }
same_outputs "kill -9 + --resume = one uninterrupted run (invert)" "$work/ref" "$work/killed"

# --- Ctrl-C (SIGINT): the current image finishes, a valid gallery, exit 130, the resume command printed ---
"$bin" "${inv[@]}" "$work/photos" --out "$work/int" >"$work/log_i" 2>&1 &
pid=$!
wait_entries "$work/int" 1 $pid
kill -INT $pid 2>/dev/null; wait $pid; rc=$?
[ $rc = 130 ] && ok "SIGINT: exit code 130" || { bad "SIGINT: exit code $rc"; cat "$work/log_i"; }
n_int=$(entries "$work/int")
rows=$(grep -c '_sheet.png' "$work/int/index.html" 2>/dev/null || echo 0)
[ "$n_int" -ge 1 ] && [ "$n_int" -lt 4 ] && [ "$rows" = "$n_int" ] && ok "SIGINT: index.html lists the $n_int finished images" ||
  bad "SIGINT: index.html has $rows rows for $n_int finished images"
grep -q -- "--resume" "$work/log_i" && ok "SIGINT: says how to resume" || bad "SIGINT: says how to resume"
"$bin" "${inv[@]}" "$work/photos" --out "$work/int" --resume >"$work/log_i2" 2>&1 || bad "resume after SIGINT"
same_outputs "Ctrl-C + --resume = one uninterrupted run (invert)" "$work/ref" "$work/int"

# --- refused resumes, a removed output redone ---
expect_fail "--resume with other settings is refused" "other settings (solver" \
  "$bin" "${base[@]}" --iters 301 "$work/photos" --out "$work/int" --resume
rm "$work/int/synthetic_2_16bit.png"
"$bin" "${inv[@]}" "$work/photos" --out "$work/int" --resume >"$work/log_r" 2>&1 || bad "resume after a removed file"
grep -q -- "3 of 4 inputs already done" "$work/log_r" && ok "--resume redoes an image whose file was removed" ||
  { bad "--resume redoes an image whose file was removed"; cat "$work/log_r"; }
same_outputs "... and gives the same bytes" "$work/ref" "$work/int"

# --- batched: stopped between two batches of 2 (test hook), resumed with another batch size: the bytes of the
# unbatched run ---
PREIMAGE_TEST_STOP_AFTER=2 "$bin" "${base[@]}" --iters 300 --batch 2 "$work/photos" --out "$work/b_int" >"$work/log_b" 2>&1; rc=$?
[ $rc = 130 ] && [ "$(entries "$work/b_int")" = 2 ] && ok "invert --batch 2: interrupted after the first batch" ||
  { bad "invert --batch 2: interrupted after the first batch (rc $rc, $(entries "$work/b_int") entries)"; cat "$work/log_b"; }
"$bin" "${base[@]}" --iters 300 --batch 3 "$work/photos" --out "$work/b_int" --resume >"$work/log_b2" 2>&1 ||
  bad "invert --batch 3 --resume"
same_outputs "batched: interrupted + --resume with another --batch = one unbatched run (invert)" "$work/ref" "$work/b_int"

# --- features and decode: interrupted (test hook: as a Ctrl-C after N inputs), resumed ---
"$bin" features --rep hog "$work/photos" --out "$work/f_ref" >/dev/null 2>&1 || bad "features: uninterrupted run"
PREIMAGE_TEST_STOP_AFTER=2 "$bin" features --rep hog "$work/photos" --out "$work/f_int" >"$work/log_f" 2>&1; rc=$?
[ $rc = 130 ] && [ "$(entries "$work/f_int")" = 2 ] && ok "features: interrupted after 2 of 4" ||
  { bad "features: interrupted after 2 (rc $rc)"; cat "$work/log_f"; }
"$bin" features --rep hog "$work/photos" --out "$work/f_int" --resume >/dev/null 2>&1 || bad "features --resume"
same_outputs "features: interrupted + --resume = one run" "$work/f_ref" "$work/f_int"
"$bin" decode --decoder "$decoder" "$work/photos" --threads 1 --out "$work/d_ref" >/dev/null 2>&1 || bad "decode: uninterrupted run"
PREIMAGE_TEST_STOP_AFTER=1 "$bin" decode --decoder "$decoder" "$work/photos" --threads 1 --out "$work/d_int" \
  >"$work/log_d" 2>&1; rc=$?
[ $rc = 130 ] && [ "$(entries "$work/d_int")" = 1 ] && ok "decode: interrupted after 1 of 4" ||
  { bad "decode: interrupted after 1 (rc $rc)"; cat "$work/log_d"; }
"$bin" decode --decoder "$decoder" "$work/photos" --threads 1 --out "$work/d_int" --resume >/dev/null 2>&1 ||
  bad "decode --resume"
same_outputs "decode: interrupted + --resume = one run (the folder's normalised error included)" "$work/d_ref" "$work/d_int"
# Random dropout draws from the stream of the image's index in the folder, not its place in a batch.
dp=(decode --decoder "$decoder" "$work/photos" --threads 1 --perturb dropout)
"$bin" "${dp[@]}" --out "$work/dp_ref" >/dev/null 2>&1 || bad "decode --perturb dropout: uninterrupted run"
PREIMAGE_TEST_STOP_AFTER=2 "$bin" "${dp[@]}" --out "$work/dp_int" >/dev/null 2>&1
"$bin" "${dp[@]}" --out "$work/dp_int" --resume >/dev/null 2>&1 || bad "decode --perturb dropout --resume"
same_outputs "decode --perturb dropout: interrupted + --resume = one run" "$work/dp_ref" "$work/dp_int"

# --- a full disk: a clear message naming the file, nothing half-written, exit 1 ---
# A 192 KiB tmpfs in a private mount namespace (unshare; or a plain mount as root), else a file size limit.
full=(invert --rep hog --size 160 --iters 5 --threads 1 "$work/photos" --out "$work/full/out")
mkdir -p "$work/full"
if unshare -rm true 2>/dev/null; then
  how="a 192 KiB tmpfs"; unshare -rm bash -c 'mount -t tmpfs -o size=192k tmpfs "$1" && shift && "$@"; echo "rc=$?" >"$0/../rc"; \
    find "$0/out" -maxdepth 1 -name ".tmp.*" >"$0/../tmps"; ls "$0/out" >"$0/../listing"; cp "$0/out/metrics.json" "$0/../metrics.json" 2>/dev/null; true' \
    "$work/full" "$work/full" "$bin" "${full[@]}" >"$work/log_full" 2>&1
  mv "$work/rc" "$work/tmps" "$work/listing" "$work/full/" 2>/dev/null; [ -e "$work/metrics.json" ] && mv "$work/metrics.json" "$work/full/"
  grep -q "No space left on device" "$work/log_full" && ok "full disk ($how): the message says so" ||
    { bad "full disk ($how): message"; cat "$work/log_full"; }
  grep -q "rc=1" "$work/full/rc" && ok "full disk: exit code 1" || bad "full disk: exit code $(cat "$work/full/rc")"
  [ ! -s "$work/full/tmps" ] && ok "full disk: no temporary file left" || bad "full disk: temporary files left"
  grep -q "preimage: error: $work/full/out/[a-z_0-9]*\.\(png\|json\|html\)" "$work/log_full" &&
    ok "full disk: the message names the file" || bad "full disk: the message names the file"
else
  how="a 16 KiB file size limit"; (ulimit -f 16; "$bin" "${full[@]}") >"$work/log_full" 2>&1; rc=$?
  grep -q "File too large" "$work/log_full" && ok "unwritable ($how): the message says so" ||
    { bad "unwritable ($how): message"; cat "$work/log_full"; }
  [ $rc = 1 ] && ok "unwritable: exit code 1" || bad "unwritable: exit code $rc"
  [ -z "$(find "$work/full/out" -maxdepth 1 -name '.tmp.*')" ] && ok "unwritable: no temporary file left" ||
    bad "unwritable: temporary files left"
fi

# --- exit codes ---
"$bin" invert --no-such-option >/dev/null 2>&1; rc=$?
[ $rc = 64 ] && ok "a malformed command line: exit code 64" || bad "a malformed command line: exit code $rc"
"$bin" invert "$work/no_such_folder" --out "$work/x" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "a refused run: exit code 1" || bad "a refused run: exit code $rc"

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
