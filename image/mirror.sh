#!/bin/sh
# image/mirror.sh: print the Debian mirrors the host's apt is configured with,
# one line each: "main URI" and, when present, "security URI".
# Reads /etc/apt/sources.list, /etc/apt/sources.list.d/*.list and *.sources
# (deb822). The main archive is the first "deb" source whose URI path ends in
# /debian (not debian-security); the security archive is the first URI whose
# path ends in /debian-security. No mirror is ever hard-coded here:
# DLITE_MIRROR / DLITE_SECURITY_MIRROR override what the host says.
# Usage: image/mirror.sh [APT_ETC_DIR]   (default /etc/apt)
set -eu
etc=${1:-/etc/apt}

uris() {
	# one-line format: deb [opts] URI suite comps...
	for f in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk '$1 == "deb" && NF >= 3 { print $2 }'
	done
	# deb822 format
	for f in "$etc"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && enabled !~ /^[Nn][Oo]/)
					for (i = 1; i <= n; i++) print u[i]
				types = ""; enabled = ""; n = 0
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "types:"   { types = $0; sub(/^[^:]*:[ \t]*/, "", types) }
			tolower($1) == "enabled:" { enabled = $2 }
			tolower($1) == "uris:"    { for (i = 2; i <= NF; i++) u[++n] = $i }
			END { flush() }
		' "$f"
	done
}

all=$(uris | sed 's,/*$,,')
main=${DLITE_MIRROR:-$(printf '%s\n' "$all" | grep -E '^(https?|file)://.*/debian$' | head -n1 || true)}
sec=${DLITE_SECURITY_MIRROR:-$(printf '%s\n' "$all" | grep -E '^(https?|file)://.*/debian-security$' | head -n1 || true)}
if [ -z "$main" ]; then
	echo "mirror.sh: no Debian archive (URI ending in /debian) in $etc/sources.list{,.d/}; set DLITE_MIRROR" >&2
	exit 1
fi
echo "main $main"
[ -z "$sec" ] || echo "security $sec"
