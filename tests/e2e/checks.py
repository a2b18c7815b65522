"""The e2e tests' assertions: each prints ok or FAIL and is counted; the
test fails at the end if one did, so that one run shows every failure."""

import sys

_failures = []
_checks = 0


def check(condition, message):
    global _checks
    _checks += 1
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        _failures.append(message)


def finish():
    """Prints the tally and exits 1 if a check failed."""
    print(f"{_checks - len(_failures)} of {_checks} checks passed")
    sys.exit(1 if _failures else 0)
