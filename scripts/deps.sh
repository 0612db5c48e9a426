#!/usr/bin/env bash
# Make sure the Debian packages that building and testing tern need are here.
# As root: installs what is missing (apt-get update first). Otherwise: names
# exactly the missing packages and fails, so nothing runs half-equipped.
#
# Usage: scripts/deps.sh build|test|bench|fuzz
set -euo pipefail

build_pkgs=(cmake make gcc clang pkg-config libcmocka-dev libcjson-dev)
# chromium: tests/cli/test_draw_render.sh loads tern's SVGs in it, headless.
test_pkgs=(clang-format tshark libclang-rt-14-dev python3 chromium)
# The interop tests run only as root (they make network namespaces and
# TUN/TAP devices), so these are wanted only then.
# (setpriv, unshare and mount come with every Debian: util-linux, mount.)
interop_pkgs=(iproute2 curl nftables iputils-ping python3-scapy iperf hping3)
# make bench (as root: namespaces, veth, TUN): iperf2 on the kernel's side,
# callgrind for the instruction counts, sysctl (procps) in the namespaces.
bench_pkgs=(iproute2 iperf valgrind procps)
# make fuzz (also run by make test): clang's libFuzzer and sanitizer
# runtimes (libclang_rt.fuzzer-x86_64.a) come in libclang-rt-14-dev.
fuzz_pkgs=(clang libclang-rt-14-dev)

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")
[ "${1:-build}" = test ] && [ "$(id -u)" -eq 0 ] && want+=("${interop_pkgs[@]}")
[ "${1:-build}" = bench ] && want+=("${bench_pkgs[@]}")
[ "${1:-build}" = test ] || [ "${1:-build}" = fuzz ] && want+=("${fuzz_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "tern: missing Debian packages: ${missing[*]}" >&2
  echo "tern: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "tern: installing missing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
