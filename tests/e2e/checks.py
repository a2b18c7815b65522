"""The e2e tests' assertions: each prints ok or FAIL and is counted; the
test fails at the end if one did, so that one run shows every failure. And
.npy files by hand (the tests run without NumPy)."""

import struct
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


def write_npy(path, shape, values, code="f"):
    """A version 1.0 .npy file of `values`: float32 (code "f") or uint8 ("B")."""
    descr = {"f": "<f4", "B": "|u1"}[code]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join(f"{n}, " for n in shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{len(values)}{code}", *values))


def npy_parts(path):
    """(header text, data bytes) of a version 1.0 .npy file."""
    data = open(path, "rb").read()
    (length,) = struct.unpack("<H", data[8:10])
    return data[10:10 + length].decode().strip(), data[10 + length:]
