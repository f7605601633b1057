# A stack in a control group of its own (sourced by receipts-benchmark.sh; root only): the stack's CPU read as one number
# (every process it starts, DCP, Postgres and Redis included, inherits the group), and the whole stack frozen while
# another stack is measured, so that one stack's background (its dashboard, chainer, autovacuum) never runs in the
# other's windows. cgroup v2 (cgroup.freeze, cpu.stat) or v1 (the freezer and cpuacct hierarchies).
#   stack_cgroups_available               0 (true) when groups can be made here
#   stack_cgroup_create <name>            a new group
#   stack_cgroup_join <name>              moves the calling shell into it ($BASHPID: call it in the subshell that execs the stack)
#   stack_cpu_us <name>                   CPU time of the group so far, in µs
#   stack_cpu_by_process <name>           lines "<process name> <µs>": CPU so far of the group's processes, summed by name
#   stack_freeze <name>, stack_thaw <name>
#   stack_cgroup_remove <name>            removes an empty group (thawed first)
cgroup_root=/sys/fs/cgroup

stack_cgroups_version() {
    if [ -f "$cgroup_root/cgroup.controllers" ]; then echo 2
    elif [ -d "$cgroup_root/cpuacct" ] && [ -d "$cgroup_root/freezer" ]; then echo 1
    else echo 0; fi
}

stack_cgroups_available() {
    [ "$(id -u)" = 0 ] || return 1
    case "$(stack_cgroups_version)" in
        2) [ -w "$cgroup_root" ] ;;
        1) [ -w "$cgroup_root/cpuacct" ] && [ -w "$cgroup_root/freezer" ] ;;
        *) return 1 ;;
    esac
}

# The group's folders, one per hierarchy.
stack_cgroup_dirs() {
    case "$(stack_cgroups_version)" in
        2) echo "$cgroup_root/$1" ;;
        1) echo "$cgroup_root/cpuacct/$1 $cgroup_root/freezer/$1" ;;
    esac
}

stack_cgroup_create() {
    local dir
    for dir in $(stack_cgroup_dirs "$1"); do mkdir -p "$dir"; done
}

stack_cgroup_join() {
    local dir
    for dir in $(stack_cgroup_dirs "$1"); do echo "$BASHPID" > "$dir/cgroup.procs"; done
}

stack_cpu_us() {
    case "$(stack_cgroups_version)" in
        2) awk '$1 == "usage_usec" { print $2 }' "$cgroup_root/$1/cpu.stat" ;;
        1) echo $(( $(cat "$cgroup_root/cpuacct/$1/cpuacct.usage") / 1000 )) ;;
    esac
}

# By /proc/<pid>/stat's name (PaymentGate, SessionApi, postgres, redis-server, dcp, Aspire.Dashboar...): user and system
# time, with the reaped children's (a Postgres backend that exited is its postmaster's), in clock ticks turned into µs.
stack_cpu_by_process() {
    local dir pid
    dir="$(stack_cgroup_dirs "$1")"
    for pid in $(cat "${dir%% *}/cgroup.procs"); do cat "/proc/$pid/stat" 2>/dev/null || true; done |
        awk -v tick="$(getconf CLK_TCK)" '{
            name = substr($0, index($0, "(") + 1); name = substr(name, 1, index(name, ")") - 1); gsub(/ /, "_", name)
            rest = substr($0, index($0, ") ") + 2); split(rest, f, " ")
            cpu[name] += f[12] + f[13] + f[14] + f[15]
        } END { for (name in cpu) print name, int(cpu[name] * 1000000 / tick) }'
}

# Waits until every process of the group has stopped (v1 reports FREEZING until then).
stack_freeze() {
    local _
    case "$(stack_cgroups_version)" in
        2) echo 1 > "$cgroup_root/$1/cgroup.freeze"
           for _ in $(seq 100); do grep -q '^frozen 1' "$cgroup_root/$1/cgroup.events" && return; sleep 0.1; done ;;
        1) echo FROZEN > "$cgroup_root/freezer/$1/freezer.state"
           for _ in $(seq 100); do [ "$(cat "$cgroup_root/freezer/$1/freezer.state")" = FROZEN ] && return; sleep 0.1; done ;;
    esac
    echo "warning: the stack in cgroup $1 did not freeze in 10 s" >&2
}

stack_thaw() {
    case "$(stack_cgroups_version)" in
        2) echo 0 > "$cgroup_root/$1/cgroup.freeze" ;;
        1) echo THAWED > "$cgroup_root/freezer/$1/freezer.state" ;;
    esac
}

# The stack's last processes may still be exiting after its AppHost has: waits for them (at most 60 s).
stack_cgroup_remove() {
    local dir _
    for dir in $(stack_cgroup_dirs "$1"); do
        [ -d "$dir" ] || continue
        for _ in $(seq 120); do [ -n "$(cat "$dir/cgroup.procs")" ] || break; sleep 0.5; done
        rmdir "$dir" 2>/dev/null || echo "warning: cgroup $dir not removed (processes left in it)" >&2
    done
}
