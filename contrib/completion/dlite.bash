# bash completion for dlite(1), generated from src/cli/cmdtab.c by `dlite __gen bash`; do not edit
_dlite() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "install start stop restart status ip ssh ssh-config env logs doctor update rebuild config uninstall version" -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
	install)
		case $prev in
		-c|--cpus) return ;;
		-m|--memory) return ;;
		-d|--disk) return ;;
		-n|--hostname) return ;;
		-S|--share) COMPREPLY=($(compgen -d -- "$cur")); return ;;
		-s|--ssh-key) COMPREPLY=($(compgen -f -- "$cur")); return ;;
		-v|--version) return ;;
		--os) COMPREPLY=($(compgen -d -- "$cur")); return ;;
		--sha256) return ;;
		--socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
		--accel) COMPREPLY=($(compgen -W "auto kvm hvf tcg" -- "$cur")); return ;;
		--engine) COMPREPLY=($(compgen -W "qemu hyperkit vfkit" -- "$cur")); return ;;
		--network) COMPREPLY=($(compgen -W "user bridged" -- "$cur")); return ;;
		esac
		COMPREPLY=($(compgen -W "-c --cpus -m --memory -d --disk -n --hostname -S --share -s --ssh-key -v --version --os --sha256 --socket --accel --engine --network --force --context -y --yes -q --quiet -h --help" -- "$cur"))
		;;
	start)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-q --quiet -h --help" -- "$cur"))
		;;
	stop)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-h --help" -- "$cur"))
		;;
	restart)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-q --quiet -h --help" -- "$cur"))
		;;
	status)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-j --json -h --help" -- "$cur"))
		;;
	ip)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-h --help" -- "$cur"))
		;;
	ssh)
		[ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "--help" -- "$cur"))
		;;
	ssh-config)
		case $prev in
		--host) return ;;
		esac
		COMPREPLY=($(compgen -W "--host -h --help" -- "$cur"))
		;;
	env)
		case $prev in
		--shell) COMPREPLY=($(compgen -W "sh bash zsh fish" -- "$cur")); return ;;
		esac
		COMPREPLY=($(compgen -W "--shell -h --help" -- "$cur"))
		;;
	logs)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-f --follow --console -h --help" -- "$cur"))
		;;
	doctor)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-j --json -h --help" -- "$cur"))
		;;
	update)
		case $prev in
		-v|--version) return ;;
		--os) COMPREPLY=($(compgen -d -- "$cur")); return ;;
		--sha256) return ;;
		esac
		COMPREPLY=($(compgen -W "-v --version --os --sha256 --rollback -q --quiet -h --help" -- "$cur"))
		;;
	rebuild)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-y --yes -h --help" -- "$cur"))
		;;
	config)
		case $COMP_CWORD in
		2) COMPREPLY=($(compgen -W "get set --help" -- "$cur")) ;;
		3) COMPREPLY=($(compgen -W "cpus memory_gib disk_gib hostname share ssh_key socket engine accel network bridge_addr bridge_host dns_port virtiofsd dns_domain port_max_conns port_max_udp file_events" -- "$cur")) ;;
		4)
			case $prev in
			engine) COMPREPLY=($(compgen -W "qemu hyperkit vfkit" -- "$cur")) ;;
			accel) COMPREPLY=($(compgen -W "auto kvm hvf tcg" -- "$cur")) ;;
			network) COMPREPLY=($(compgen -W "user bridged" -- "$cur")) ;;
			file_events) COMPREPLY=($(compgen -W "on off" -- "$cur")) ;;
			esac ;;
		esac
		;;
	uninstall)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-y --yes -h --help" -- "$cur"))
		;;
	version)
		case $prev in
		esac
		COMPREPLY=($(compgen -W "-h --help" -- "$cur"))
		;;
	esac
}
complete -F _dlite dlite
