#!/usr/bin/env bash
# What depending on p100-ergonomic costs a downstream build: the CPU seconds (user + system) of a
# clean debug build of a small binary on p100-ergonomic against the same program written on
# reqwest + serde by hand, with the same TLS provider, and the number of packages each compiles.
# The two programs (in this directory) make the same call: GET the user's balances, decoded.
#
#   bash crates/p100-ergonomic/benches/build_cost/build_cost.sh            # aws-lc-rs (default)
#   TLS=ring bash crates/p100-ergonomic/benches/build_cost/build_cost.sh   # ring
#   ROUNDS=3 bash crates/p100-ergonomic/benches/build_cost/build_cost.sh   # alternated, minima
#   FLOOR=1 ...    # also the hand-written program with every crate the SDK's two crates depend on
#                  # (same versions and features, unused): what the SDK's own code costs on top
#   TIMINGS=1 ...  # also keep cargo's --timings report of the last round: target/build-cost-<program>.html
#
# Each build gets a fresh target directory under target/build-cost (deleted afterwards); the
# registry must already hold the sources (cargo fetch), so no time goes to downloads.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
tls="${TLS:-aws-lc}"
work="$root/target/build-cost"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

case "$tls" in
  aws-lc) sdk_features='' ; reqwest_tls='"rustls"'; rustls_dep=''; build_features='' ;;
  ring)   sdk_features='default-features = false, features = ["rustls-ring"]'
          reqwest_tls='"rustls-no-provider"'
          rustls_dep='rustls = { version = "0.23", default-features = false, features = ["ring", "std", "tls12"] }'
          build_features='--features=ring' ;;
  *) echo "TLS is aws-lc or ring" >&2; exit 2 ;;
esac

project() { # name, dependencies, main.rs
  mkdir -p "$work/$1/src"
  cat > "$work/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[features]
ring = []

[dependencies]
$2
TOML
  cp "$here/$3" "$work/$1/src/main.rs"
}

project sdk "p100-ergonomic = { path = \"$root/crates/p100-ergonomic\" ${sdk_features:+, $sdk_features} }
tokio = { version = \"1\", features = [\"rt\", \"macros\"] }" sdk.rs
project handwritten "reqwest = { version = \"0.13\", default-features = false, features = [\"json\", $reqwest_tls] }
serde = { version = \"1\", features = [\"derive\"] }
serde_json = \"1\"
tokio = { version = \"1\", features = [\"rt\", \"macros\"] }
$rustls_dep" handwritten.rs
programs="handwritten sdk"
if [ -n "${FLOOR:-}" ]; then
  # The external dependencies of p100-api and p100-ergonomic (from cargo metadata, so the list
  # is the manifests'), features merged, with the hand-written program's TLS and tokio.
  floor_deps=$(cd "$root" && cargo metadata --format-version 1 --no-deps --offline | python3 -c '
import json, sys
tls = sys.argv[1]
deps = {}
for package in json.load(sys.stdin)["packages"]:
    if package["name"] not in ("p100-api", "p100-ergonomic"):
        continue
    for d in package["dependencies"]:
        if d["kind"] is None and not d["optional"] and not d.get("path"):
            req, features, default = deps.get(d["name"], (d["req"], set(), False))
            deps[d["name"]] = (req, features | set(d["features"]), default or d["uses_default_features"])
deps["tokio"][1].update(["rt", "macros"])
deps["reqwest"][1].add(tls)
for name, (req, features, default) in sorted(deps.items()):
    listed = ", ".join(f"\"{f}\"" for f in sorted(features))
    print(f"{name} = {{ version = \"{req}\", default-features = {str(default).lower()}, features = [{listed}] }}")
' "$(echo $reqwest_tls | tr -d '"')")
  project floor "$floor_deps
$rustls_dep" handwritten.rs
  programs="handwritten floor sdk"
fi
# One lock file for all: the workspace's, so the versions are the SDK's.
for name in $programs; do cp "$root/Cargo.lock" "$work/$name/Cargo.lock"; done

# Rounds alternate the two programs (handwritten, sdk, handwritten, sdk, ...) so a slower stretch
# of a shared machine falls on both; the minimum of each is compared (ROUNDS=3 for a verdict).
rounds="${ROUNDS:-1}"
declare -A packages runs
for name in $programs; do
  (cd "$work/$name" && cargo fetch --quiet 2>/dev/null || true)
  packages[$name]=$(cd "$work/$name" && cargo tree -e normal,build --prefix none 2>/dev/null | sed 's/ (\*)//; s/ v[0-9].*//' | sort -u | wc -l)
done
for round in $(seq 1 "$rounds"); do
  for name in $programs; do
    rm -rf "$work/$name/target"
    /usr/bin/time -f '%U %S' -o "$work/$name.time" \
      cargo build --quiet --offline $build_features ${TIMINGS:+--timings} --manifest-path "$work/$name/Cargo.toml" --target-dir "$work/$name/target"
    if [ -n "${TIMINGS:-}" ]; then cp "$work/$name/target/cargo-timings/cargo-timing.html" "$root/target/build-cost-$name.html"; fi
    cpu=$(awk '{printf "%.1f", $1 + $2}' "$work/$name.time")
    runs[$name]="${runs[$name]:-} $cpu"
    echo "round $round: $name $cpu s"
  done
done
printf '%-12s %10s %9s   %s\n' program min_cpu_s packages "all rounds (s)"
declare -A best
for name in $programs; do
  best[$name]=$(printf '%s\n' ${runs[$name]} | sort -n | head -1)
  printf '%-12s %10s %9s  %s\n' "$name" "${best[$name]}" "${packages[$name]}" "${runs[$name]}"
done
echo "ratio sdk/handwritten (minima): $(echo "scale=3; ${best[sdk]} / ${best[handwritten]}" | bc)"
if [ -n "${FLOOR:-}" ]; then
  echo "ratio floor/handwritten (the dependencies alone): $(echo "scale=3; ${best[floor]} / ${best[handwritten]}" | bc)"
  echo "the SDK's own crates (sdk - floor): $(echo "${best[sdk]} - ${best[floor]}" | bc) s"
fi
