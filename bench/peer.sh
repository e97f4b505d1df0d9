#!/usr/bin/env bash
# peer.sh: the firewalls `make bench` sets beside the loader, in the network
# namespace it runs in (bench/run enters a jail's namespace first). PREFIX
# names the files bench/peers.py wrote from one rule list.
#
#   peer.sh ipt PREFIX             ipset restore, then iptables-restore and
#                                  ip6tables-restore: the devcontainer
#                                  firewall's way, with its sets restored
#                                  whole rather than added one by one
#   peer.sh check nft|ipt SETS RULES4 RULES6 [--remove]
#                                  exit 1 unless the namespace holds exactly
#                                  what one of bench/peers.py's rule lists sets up (SETS sets; RULES4
#                                  and RULES6 rules in OUTPUT for ipt, SETS
#                                  rules in the output chain for nft); with
#                                  --remove, then remove it
#
# `nft -f PREFIX.nft` is nft's setup: one process, so bench/run runs it
# directly.
set -euo pipefail

case ${1:-}/$# in
ipt/2)
	ipset restore -f "$2.ipset"
	iptables-restore "$2.iptables"
	ip6tables-restore "$2.ip6tables"
	;;
check/5 | check/6)
	peer=$2 sets=$3 rules4=$4 rules6=$5 remove=${6:-}
	[[ -z $remove || $remove == --remove ]] || exit 2
	if [[ $peer == nft ]]; then
		out=$(nft list table inet jailbench)
		got=$(grep -c '^	set ' <<<"$out" || true)
		[[ $got == "$sets" ]] || { echo "peer.sh: nft has $got sets, not $sets" >&2 && exit 1; }
		got=$(grep -c 'daddr @jb' <<<"$out" || true)
		[[ $got == "$sets" ]] || { echo "peer.sh: nft has $got rules, not $sets" >&2 && exit 1; }
		[[ -z $remove ]] || nft delete table inet jailbench
	elif [[ $peer == ipt ]]; then
		got=$(ipset list -n | grep -c '^jb' || true)
		[[ $got == "$sets" ]] || { echo "peer.sh: ipset has $got sets, not $sets" >&2 && exit 1; }
		got=$(iptables -S OUTPUT | grep -c '^-A OUTPUT .*--match-set jb' || true)
		[[ $got == "$rules4" ]] || { echo "peer.sh: iptables has $got rules, not $rules4" >&2 && exit 1; }
		got=$(ip6tables -S OUTPUT | grep -c '^-A OUTPUT .*--match-set jb' || true)
		[[ $got == "$rules6" ]] || { echo "peer.sh: ip6tables has $got rules, not $rules6" >&2 && exit 1; }
		if [[ -n $remove ]]; then
			iptables -F OUTPUT
			ip6tables -F OUTPUT
			ipset destroy
		fi
	else
		exit 2
	fi
	;;
*)
	echo "usage: peer.sh ipt PREFIX | peer.sh check nft|ipt SETS RULES4 RULES6 [--remove]" >&2
	exit 2
	;;
esac
