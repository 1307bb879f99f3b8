#!/usr/bin/env bash
# The verified core stays IO-free: the store's normal dependency tree holds
# no libloading (nor anything but crossbeam).
source "$(dirname "$0")/lib.sh"
tree="$(cargo tree -p polyplug-store -e normal --prefix none)"
echo "$tree"
if grep -q libloading <<<"$tree"; then
    echo "error: polyplug-store depends on libloading" >&2
    exit 1
fi
others="$(grep -vE '^(polyplug-store|crossbeam-epoch|crossbeam-utils) ' <<<"$tree" | sort -u || true)"
if [ -n "$others" ]; then
    echo "error: polyplug-store has unexpected normal dependencies:" >&2
    echo "$others" >&2
    exit 1
fi
echo "ok: polyplug-store depends only on crossbeam"
