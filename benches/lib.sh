# Shared by the scripts in benches/ (sourced, not run).

# utime+stime of every process of a process group, in clock ticks (getconf CLK_TCK a
# second). A process's own stat counts all its threads, those that have exited too (a pool
# that retires idle threads loses no time), where task/*/stat would count only live ones.
cpu_ticks() {
    local total=0 pid fields
    for pid in $(pgrep -g "$1"); do
        [[ -r /proc/$pid/stat ]] || continue
        read -ra fields < <(sed 's/.*) //' "/proc/$pid/stat")
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}

# The median of the numbers on stdin (separated by spaces or newlines).
median() {
    tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# Where cargo puts this workspace's builds (honours CARGO_TARGET_DIR and cargo config).
target_dir() {
    cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}
