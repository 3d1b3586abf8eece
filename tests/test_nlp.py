"""Model loading's process settings: glibc's malloc thresholds for spaCy's batch arrays (``tune_malloc``)
and the build's own (``release_malloc``)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="needs Linux with glibc"
)

# In a fresh interpreter: apply the tuning (or not), then allocate and touch an array (8 MB, as a spaCy batch
# does, unless a size is given), and print whether tune_malloc applied and how many bytes glibc holds in mmapped blocks before and
# while the array lives (mallinfo2, glibc >= 2.33).
PROBE = """
import ctypes, sys

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Mallinfo2
applied = False
if sys.argv[1] in ("tune", "release"):
    from reportminer.nlp import release_malloc, tune_malloc
    applied = tune_malloc()
    if sys.argv[1] == "release":
        applied = applied and release_malloc()
before = libc.mallinfo2().hblkhd
block = bytearray(int(sys.argv[2]) if len(sys.argv) > 2 else 8 * 2**20)
print(applied, before, libc.mallinfo2().hblkhd)
"""


def probe(mode: str, size: int = 8 * 2**20, **env: str) -> tuple[bool, int]:
    """(applied, growth of glibc's mmapped bytes while a block of ``size`` bytes lives) in a fresh
    interpreter."""
    environ = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(size)],
        env=environ | env,
        capture_output=True,
        text=True,
        check=True,
    )
    applied, before, during = done.stdout.split()
    return applied == "True", int(during) - int(before)


@glibc
def test_tune_malloc_serves_batch_sized_blocks_from_the_heap():
    applied, mmapped = probe("tune")
    assert applied
    assert mmapped == 0  # the 8 MB block came from the heap, whose freed pages the next batch reuses


@glibc
def test_without_tuning_glibc_maps_batch_sized_blocks_afresh():
    applied, mmapped = probe("plain")
    assert not applied
    assert mmapped >= 8 * 2**20  # glibc's default: a fresh mapping (new pages to fault in) per block


@glibc
def test_release_malloc_maps_large_blocks_and_keeps_nmf_sized_ones_in_the_heap():
    applied, mmapped = probe("release")
    assert applied
    assert mmapped >= 8 * 2**20  # after the analysis: a block the size of a table's column is mapped afresh
    applied, mmapped = probe("release", size=2**20)
    assert applied
    # a block the size of an NMF iteration's arrays comes from the heap (fixed 128 KB thresholds mapped it
    # afresh on every iteration: the theme fit took three times as long)
    assert mmapped == 0


@glibc
def test_tune_malloc_leaves_the_users_malloc_settings_alone():
    applied, mmapped = probe("tune", GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072")
    assert not applied
    assert mmapped >= 8 * 2**20  # the user's 128 KB threshold holds
