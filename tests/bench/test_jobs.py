"""The job graph: dependency order, its errors, and the edges that keep timing jobs alone."""

from __future__ import annotations

import pytest

from vposebench.jobs import Job, in_dependency_order, quiet_exclusive_jobs


def test_quiet_edges_put_exclusive_jobs_alone_and_keep_the_graph_acyclic():
    def job(key, *deps, exclusive=False):
        return Job(key, "x", print, deps=deps,
                   resources={"exclusive": 1} if exclusive else {"cpu": 1})

    jobs = [job("a"), job("b", "a"), job("t1", "a", exclusive=True), job("r1", "t1"),
            job("t2", "b", exclusive=True), job("r2", "t2"), job("c", "b")]
    quiet = {j.key: set(j.deps) for j in quiet_exclusive_jobs(jobs)}
    in_dependency_order(quiet_exclusive_jobs(jobs))  # no cycle
    assert quiet["t1"] == {"a", "b", "c"}  # everything not after an exclusive job
    assert quiet["t2"] == {"a", "b", "c", "t1", "r1"}
    assert quiet["r1"] == {"t1"} and quiet["c"] == {"b"}


def test_dependency_errors_are_named():
    def job(key, *deps):
        return Job(key, "x", print, deps=deps)

    with pytest.raises(ValueError, match="cycle: a -> b -> a"):
        in_dependency_order([job("a", "b"), job("b", "a")])
    with pytest.raises(ValueError, match="unknown job"):
        in_dependency_order([job("a", "zz")])
    with pytest.raises(ValueError, match="two jobs"):
        in_dependency_order([job("a"), job("a")])
