#!/usr/bin/env bash
# bpftool-load.sh CGROUP PINDIR BATCHFILE OBJECT: the loader's job done with
# stock bpftool, as a user could script it; the comparison case of `make
# bench`. PINDIR must be on a bpffs (the bench mounts its own, never
# /sys/fs/bpf). BATCHFILE holds the rules as `map update` commands on the
# trie PINDIR/maps/rules, one a key, written beforehand by
# build/bench/genlist: turning rules into key bytes is left out of the
# timing, in bpftool's favour. The pins are removed at the end (also on failure); the attached
# programs stay, held by the cgroup, as the loader's do.
set -euo pipefail

cgroup=$1 pin=$2 batch=$3 object=$4

trap 'rm -rf "$pin"' EXIT
mkdir "$pin"
bpftool prog loadall "$object" "$pin/progs" pinmaps "$pin/maps"
bpftool batch file "$batch" >/dev/null
bpftool cgroup attach "$cgroup" sock_ops pinned "$pin/progs/jailai_sockops" multi
for hook in connect4 sendmsg4 connect6 sendmsg6 egress; do
	bpftool cgroup attach "$cgroup" "$hook" pinned "$pin/progs/jailai_$hook" multi
done
