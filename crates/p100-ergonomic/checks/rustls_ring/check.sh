#!/usr/bin/env bash
#   bash crates/p100-ergonomic/checks/rustls_ring/check.sh
# The `rustls-ring` feature on its own, as a downstream program would use it (a separate
# package, so that no dev-dependency brings aws-lc back): the client builds and ring is then the
# process's default rustls provider. No network: building a client opens no connection.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
work="$root/target/rustls-ring-check"
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "rustls-ring-check"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
p100-ergonomic = { path = "$root/crates/p100-ergonomic", default-features = false, features = ["rustls-ring"] }
rustls = { version = "0.23", default-features = false, features = ["ring", "std"] }
TOML
cp "$root/Cargo.lock" "$work/Cargo.lock"
cp "$here/main.rs" "$work/src/main.rs"
if cargo tree --manifest-path "$work/Cargo.toml" -e normal --prefix none | grep -q '^aws-lc'; then
  echo "aws-lc is in the rustls-ring build" >&2
  exit 1
fi
cargo run --quiet --manifest-path "$work/Cargo.toml" --target-dir "$work/target"
