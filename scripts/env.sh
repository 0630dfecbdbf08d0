# Sourced by Billhook's scripts: where tools and build caches live (outside the clone, so that a
# fresh clone on a warm machine reuses them) and the PATH that finds the tools.
export BILLHOOK_CACHE="${BILLHOOK_CACHE:-$HOME/.cache/billhook}"
tools_dir="$BILLHOOK_CACHE/tools"
node_tools_dir="$BILLHOOK_CACHE/node-tools"
# scripts/shims first: its wasm-opt remembers its outputs and calls npm's binaryen for new ones.
shims_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/shims"
export node_tools_dir
export PATH="$shims_dir:$tools_dir/bin:$node_tools_dir/node_modules/.bin:$PATH"
# cargo-leptos (release server + WASM) and plain cargo (unit/integration tests, clippy) get
# separate target directories: a dev cargo-leptos build sets RUSTFLAGS that would make the two
# rebuild each other from scratch.
leptos_target_dir="$BILLHOOK_CACHE/target-leptos"
cargo_target_dir="$BILLHOOK_CACHE/target"
# Python with Stripe's SDK (scripts/setup installs it), for the webhook signature tests.
test_python="$BILLHOOK_CACHE/venv/bin/python"
# The WASM's own target directory: scripts/build-release builds it and the server at once.
leptos_front_target_dir="$BILLHOOK_CACHE/target-leptos-front"
# scripts/build-release --quick (the first-run build of scripts/run): server and WASM.
quick_target_dir="$BILLHOOK_CACHE/target-quick"
quick_front_target_dir="$BILLHOOK_CACHE/target-quick-front"
