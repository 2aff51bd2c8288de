#!/bin/sh
# Typed handles (and read-only zero-copy borrows): each
# tests/unit/compile_fail/*.c must fail to compile against the public headers
# with the diagnostic its EXPECT line names, and compile cleanly with
# -DCOMPILE_OK (the same code with the right kind of handle or pointer), so the
# failure is the type error and nothing else. Usage: compile_fail.sh CC
CC=${1:-cc}
dir=$(dirname "$0")/compile_fail
rc=0
n=0
for f in "$dir"/*.c; do
	n=$((n + 1))
	want=$(sed -n 's/.*EXPECT: \(.*\) \*\/$/\1/p; s/.*EXPECT: \(.*\)$/\1/p' "$f" | head -1)
	flags="-std=gnu11 -Wall -Wextra -Werror=incompatible-pointer-types -Iinclude -fsyntax-only"
	if ! out=$(LC_ALL=C $CC $flags -DCOMPILE_OK "$f" 2>&1); then
		echo "FAIL $f: does not compile even with the right handle:"
		echo "$out"
		rc=1
		continue
	fi
	if out=$(LC_ALL=C $CC $flags "$f" 2>&1); then
		echo "FAIL $f: compiled, but must not (a handle of the wrong kind, or a const borrow)"
		rc=1
		continue
	fi
	if ! printf '%s\n' "$out" | grep -Eq "$want"; then
		echo "FAIL $f: failed, but not with /$want/:"
		echo "$out"
		rc=1
		continue
	fi
	echo "ok   $f: $(printf '%s\n' "$out" | grep -Em1 "$want" | sed 's/^[^ ]* //')"
done
[ $n -gt 0 ] || { echo "FAIL: no compile_fail cases"; rc=1; }
exit $rc
