#!/bin/sh
# The command table drives the CLI, the completions and the man page (no VM):
# every command's --help, the committed generated files, mandoc -T lint,
# the completion scripts load and complete, dlite env and --context.
. "$(dirname "$0")/lib.sh"
need_image

for w in bash zsh fish man; do
	case $w in
	bash) f=contrib/completion/dlite.bash ;; zsh) f=contrib/completion/_dlite ;;
	fish) f=contrib/completion/dlite.fish ;; man) f=contrib/man/dlite.1 ;;
	esac
	"$DLITE" __gen $w | cmp -s - "$ROOT/$f" || fail "$f differs from \`dlite __gen $w\`; run make gen"
done
ok "committed completions and man page match the table"
"$DLITE" __gen troff 2>/dev/null && fail "__gen of an unknown format succeeded"

lint=$(mandoc -T lint -W warning "$ROOT/contrib/man/dlite.1" 2>&1) || fail "mandoc lint: $lint"
[ -z "$lint" ] || fail "mandoc lint: $lint"
ok "mandoc -T lint -W warning is clean"

# every command in the usage answers --help with its own usage, exit 0
cmds=$("$DLITE" help | sed -n 's/^  \([a-z-]*\) .*/\1/p')
[ "$(printf '%s\n' "$cmds" | wc -l)" -ge 15 ] || fail "help lists too few commands: $cmds"
for c in $cmds; do
	out=$("$DLITE" "$c" --help) || fail "dlite $c --help failed"
	printf '%s\n' "$out" | head -n1 | grep -q "^usage: dlite $c" || fail "dlite $c --help: $out"
	grep -q "^.It Nm Cm $c" "$ROOT/contrib/man/dlite.1" || fail "man page lacks $c"
done
ok "each of $(echo $cmds | wc -w) commands answers --help and is in the man page"

# bash: the completion function completes commands, flags, choices and keys
comp() { # comp WORDS... -> the completions of the last word
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dlite; echo "${COMPREPLY[*]}"' \
		_ "$ROOT/contrib/completion/dlite.bash" dlite "$@"
}
[ "$(comp ins)" = install ] || fail "bash: ins -> $(comp ins)"
[ "$(comp install --acc)" = --accel ] || fail "bash: install --acc -> $(comp install --acc)"
[ "$(comp install --engine v)" = vfkit ] || fail "bash: --engine v -> $(comp install --engine v)"
[ "$(comp config set virt)" = virtiofsd ] || fail "bash: config set virt"
[ "$(comp config set network b)" = bridged ] || fail "bash: config set network b"
[ "$(comp env --shell f)" = fish ] || fail "bash: env --shell f"
ok "bash completion: commands, flags, choices, config keys"
zsh -n "$ROOT/contrib/completion/_dlite" || fail "zsh: syntax"
fish -n "$ROOT/contrib/completion/dlite.fish" || fail "fish: syntax"
out=$(fish -c "source $ROOT/contrib/completion/dlite.fish; complete -C 'dlite install --eng'")
printf '%s\n' "$out" | grep -q -- "--engine" || fail "fish: install --eng -> $out"
out=$(fish -c "source $ROOT/contrib/completion/dlite.fish; complete -C 'dlite config set '")
printf '%s\n' "$out" | grep -q "^dns_port" || fail "fish: config set -> $out"
ok "zsh and fish completions parse; fish completes flags and keys"

# dlite env and dlite install --context (a scratch DOCKER_CONFIG)
"$DLITE" install --os "$OS" -d 4 -S "" --yes --context >/dev/null || fail "install --context"
out=$("$DLITE" env)
[ "$(printf '%s\n' "$out" | head -n1)" = "export DOCKER_HOST=unix://$DLITE_HOME/docker.sock" ] ||
	fail "dlite env: $out"
(unset DOCKER_HOST; eval "$out"; [ "$DOCKER_HOST" = "unix://$DLITE_HOME/docker.sock" ]) ||
	fail "eval \$(dlite env) does not set DOCKER_HOST"
out=$(fish -c "set -e DOCKER_HOST; $DLITE env --shell fish | source; echo \$DOCKER_HOST")
[ "$out" = "unix://$DLITE_HOME/docker.sock" ] || fail "dlite env --shell fish: $out"
"$DLITE" env --shell tcsh 2>/dev/null && fail "env --shell tcsh succeeded"
ok "dlite env (sh, fish)"
ctx() { env -u DOCKER_HOST docker context show; } # DOCKER_HOST would mask the context
if command -v docker >/dev/null; then
	[ "$(ctx)" = dlite ] || fail "install --context: current is $(ctx)"
	"$DLITE" uninstall --yes >/dev/null || fail "uninstall"
	[ "$(ctx)" = default ] || fail "uninstall left context $(ctx)"
	# a previous context other than default is what uninstall goes back to
	docker context create other --docker host=unix:///nowhere >/dev/null || fail "context create"
	env -u DOCKER_HOST docker context use other >/dev/null
	"$DLITE" install --os "$OS" -d 4 -S "" --yes --context >/dev/null || fail "install --context"
	[ "$(ctx)" = dlite ] || fail "install --context did not switch"
	"$DLITE" uninstall --yes >/dev/null || fail "uninstall"
	[ "$(ctx)" = other ] || fail "uninstall went to $(ctx), not other"
	ok "install --context switches to dlite, uninstall back to the previous context"
fi
echo "PASS"
