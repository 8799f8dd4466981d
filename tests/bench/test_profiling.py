"""The peak RSS a timing process reports is its own, not the peak of the process that spawned
it (`ru_maxrss` survives fork + exec on Linux; the speed pass runs in a spawned process started
by a pipeline worker that may have grown large)."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import sys

import pytest

from vposebench.profiling import peak_rss_bytes

MB = 2 ** 20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork + exec inheritance of ru_maxrss is Linux's")
def test_spawned_process_reports_its_own_peak():
    ballast = bytearray(600 * MB)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: the parent's RSS grows
    assert peak_rss_bytes() > 600 * MB
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        child = pool.submit(peak_rss_bytes).result()
    del ballast
    assert 0 < child < 400 * MB  # the child imports vposebench (and torch), never 600 MB
