"""Small hand-made result records for table and record tests."""

from __future__ import annotations

from vposebench.protocols import Protocol
from vposebench.records import (
    Comparison,
    Estimate,
    LatencyStats,
    ResultRecord,
    Speed,
)

PROV = {"git_commit": "abc", "git_dirty": False, "seed": 0}


def speed(median: float, params: int = 1_500_000) -> Speed:
    lat = LatencyStats(median, median - 1, median + 1, 100)
    return Speed(mode="online", device="cpu", threads=1, precision="fp32", warmup_frames=10,
                 repeats=3, pose=lat, end_to_end=LatencyStats(median + 0.5, median - 0.5, median + 1.5, 100),
                 loading=None, harness_overhead=0.02, repeat_pose_medians_ms=(median, median, median),
                 peak_rss_bytes=300 * 2**20, gpu_max_allocated_bytes=None, gpu_max_reserved_bytes=None,
                 state_bytes=4096, parameters=params, flops_per_person=250_000_000)


def frame_group_breakdowns(table: str, column: str, values: tuple[float, float, float]) -> dict:
    """Breakdowns degraded / recovery / clean of one metric cell, each value ± 2."""
    return {g: {table: {column: Estimate(v, v - 2, v + 2)}}
            for g, v in zip(("degraded", "recovery", "clean"), values)}


def posetrack_record(method: str, label: str, ap: float, mota: float, *, tags=(), config=None,
                     crowd=None, wri=None, fps_ms=20.0, comparisons=(), groups=None,
                     hota=None, accel=None) -> ResultRecord:
    """`groups`: AP Total on the degraded, recovery and clean frames; `hota`: HOTA Total;
    `accel`: acceleration error Mean (jitter = half of it)."""
    metrics = {"AP": {"Total": Estimate(ap, ap - 1, ap + 1), "Wri": Estimate(wri or ap - 5),
                      "Ankl": Estimate(ap - 7)},
               "MOTA": {"Total": Estimate(mota, mota - 2, mota + 2), "Wri": Estimate(mota - 3),
                        "Ankl": Estimate(mota - 4)}}
    if hota is not None:
        metrics["HOTA"] = {"Total": Estimate(hota, hota - 1.5, hota + 1.5)}
    if accel is not None:
        metrics["AccelErr"] = {"Mean": Estimate(accel, accel - 0.25, accel + 0.25)}
        metrics["Jitter"] = {"Mean": Estimate(accel / 2, accel / 2 - 0.25, accel / 2 + 0.25)}
    breakdowns = {}
    if crowd is not None:
        breakdowns["crowd"] = {"AP": {"Total": Estimate(crowd[0])}, "MOTA": {"Total": Estimate(crowd[1])}}
    if groups is not None:
        breakdowns.update(frame_group_breakdowns("AP", "Total", groups))
    return ResultRecord(
        method=method, config=config or {"backbone": "resnet18"},
        dataset={"name": "synthetic", "split": "val", "videos": 4},
        protocol=Protocol(metric="posetrack"), seed=0, metrics=metrics, provenance=PROV,
        created="2026-11-22T00:00:00+00:00", breakdowns=breakdowns, speed=speed(fps_ms),
        label=label, tags=list(tags), comparisons=list(comparisons),
    )


def pck_record(label: str, mean: float, *, tags=(), stride=1, config=None, groups=None) -> ResultRecord:
    """`groups`: PCK Mean on the degraded, recovery and clean person-frames."""
    cols = ("Head", "Sho", "Elb", "Wri", "Hip", "Knee", "Ank")
    metrics = {"PCK": {c: Estimate(mean + i - 3) for i, c in enumerate(cols)} | {"Mean": Estimate(mean, mean - 0.5, mean + 0.5)}}
    return ResultRecord(
        method=label.lower(), config=config or {"backbone": "cpm"},
        dataset={"name": "synthetic_jhmdb", "split": "test"},
        protocol=Protocol(metric="pck", metric_options={"alpha": 0.2}, temporal_stride=stride), seed=0,
        metrics=metrics, provenance=PROV, created="2026-11-22T00:00:00+00:00", label=label,
        tags=list(tags), breakdowns={} if groups is None else frame_group_breakdowns("PCK", "Mean", groups),
    )


def comparison(other: ResultRecord, table: str, column: str, diff: float) -> Comparison:
    return Comparison(other.key, table, column, Estimate(diff, diff - 0.5, diff + 0.5))
