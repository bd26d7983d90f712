# Sourced by the tools/ scripts: Debian packages, loopback ports and waiting
# for listeners. Plain sh, so that sh scripts can source it too.

# apt_install PKG...: installs Debian packages, with sudo when not root. The
# package lists are updated first: on a fresh machine they may be empty.
apt_install() {
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "${0##*/}: installing $*" >&2
	$sudo apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A loopback port nothing listens on (bash's /dev/tcp connect fails), below
# the ephemeral range so that no client socket of ours can be holding it.
free_port() {
	local low p
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$low" -gt 12000 ] || low=32768
	while :; do
		p=$((10000 + RANDOM % (low - 10000)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# wait_port PORT [LOG]: until something listens on 127.0.0.1:PORT, for up to
# 60 s (a peerd listens once it has hashed its files, which takes a while on
# a busy machine); else show the end of LOG and fail.
wait_port() {
	for _ in $(seq 600); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "${0##*/}: nothing listening on port $1${2:+; $2 says:}" >&2
	[ -n "${2:-}" ] && tail -5 "$2" >&2
	return 1
}
