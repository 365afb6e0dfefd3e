#!/bin/sh
# Give every venue module a fuzz target (fuzz_targets/adapter_<venue>.rs and
# its [[bin]] in fuzz/Cargo.toml) if it has none. Run from the repository root.
set -e
for dir in src/venues/*/; do
    v=$(basename "$dir")
    [ -f "$dir/mod.rs" ] || continue
    grep -q "pub const SPEC" "$dir/mod.rs" 2>/dev/null || continue
    t="fuzz/fuzz_targets/adapter_$v.rs"
    [ -f "$t" ] && continue
    printf '#![no_main]\n//! The %s adapter driven by a scenario (see `fuzz/README.md`).\ndepthwatch_fuzz::adapter_target!("%s");\n' "$v" "$v" > "$t"
    printf '\n[[bin]]\nname = "adapter_%s"\npath = "fuzz_targets/adapter_%s.rs"\ntest = false\ndoc = false\nbench = false\n' "$v" "$v" >> fuzz/Cargo.toml
    echo "added $t"
done
