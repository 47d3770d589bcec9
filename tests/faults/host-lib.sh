# Shared by the fault tests: tests/e2e/lib.sh (own DLITE_HOME and
# DLITE_SYSROOT, fail/skip/ok, cleanup) plus vm_lock.
. "$(dirname "$0")/../e2e/lib.sh"

# Before the part of a test that boots a VM: with VM_LOCK=FILE, wait for an
# exclusive flock on FILE (a machine shared with other VM runs); held until
# the test exits. Without VM_LOCK (CI), nothing.
vm_lock() {
	[ -n "${VM_LOCK:-}" ] || return 0
	exec 9>"$VM_LOCK"
	flock 9
}
