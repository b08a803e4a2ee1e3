#!/usr/bin/env bash
# What depending on p100-ergonomic costs a downstream build: the CPU seconds (user + system) of a
# clean debug build of a small binary on p100-ergonomic against the same program written on
# reqwest + serde by hand, with the same TLS provider, and the number of packages each compiles.
# The two programs (in this directory) make the same call: GET the user's balances, decoded.
#
#   bash crates/p100-ergonomic/benches/build_cost/build_cost.sh            # aws-lc-rs (default)
#   TLS=ring bash crates/p100-ergonomic/benches/build_cost/build_cost.sh   # ring
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
# One lock file for both: the workspace's, so the versions are the SDK's.
for name in sdk handwritten; do cp "$root/Cargo.lock" "$work/$name/Cargo.lock"; done

printf '%-12s %10s %9s\n' program cpu_s packages
declare -A cpu
for name in handwritten sdk; do
  (cd "$work/$name" && cargo fetch --quiet 2>/dev/null || true)
  packages=$(cd "$work/$name" && cargo tree -e normal,build --prefix none 2>/dev/null | sed 's/ (\*)//; s/ v[0-9].*//' | sort -u | wc -l)
  /usr/bin/time -f '%U %S' -o "$work/$name.time" \
    cargo build --quiet --offline $build_features --manifest-path "$work/$name/Cargo.toml" --target-dir "$work/$name/target"
  cpu[$name]=$(awk '{printf "%.1f", $1 + $2}' "$work/$name.time")
  printf '%-12s %10s %9s\n' "$name" "${cpu[$name]}" "$packages"
done
echo "ratio sdk/handwritten: $(echo "scale=3; ${cpu[sdk]} / ${cpu[handwritten]}" | bc)"
