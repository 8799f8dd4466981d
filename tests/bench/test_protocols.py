"""The protocol object: its JSON block, its metric options under the metric's own names, and
the tracker and box source built from it."""

import dataclasses

import pytest

from vposebench.box_sources import GTBoxes, JitteredGTBoxes
from vposebench.errors import UserError
from vposebench.experiments import get_preset, preset_names
from vposebench.metrics.pck import PCKMetric, PCKOptions
from vposebench.protocols import BoxSettings, Protocol, SpeedSettings, TrackerSettings


def test_json_block_round_trip_and_unknown_fields():
    protocol = Protocol("pck", {"alpha": 0.1, "normaliser": "torso"}, BoxSettings("gt-jitter", {"shift": 0.1}),
                        TrackerSettings("hungarian", 0.5, 4), temporal_stride=3,
                        speed=SpeedSettings(videos=1, repeats=5))
    assert Protocol.from_dict(protocol.to_dict()) == protocol
    with pytest.raises(UserError, match="protocol.tracker.iou"):
        Protocol.from_dict({**protocol.to_dict(), "tracker": {"iou": 0.3}})
    with pytest.raises(UserError, match="protocol.flip_test"):
        Protocol.from_dict({**protocol.to_dict(), "flip_test": False})
    with pytest.raises(UserError, match="protocol.metric"):
        Protocol.from_dict({"tracker": {}})


def test_preset_protocols_use_the_metric_option_names():
    """What a record says about the metric is what the metric was built with: PCK options are
    exactly PCKOptions' fields (`normaliser: box`, not 'bbox')."""
    plans = [plan for name in preset_names() for plan in get_preset(name).protocols.values()]
    assert {plan.metric for plan in plans} == {"posetrack", "pck"}
    for plan in plans:
        metric = plan.protocol.build_metric()
        if plan.metric == "pck":
            assert isinstance(metric, PCKMetric)
            assert plan.protocol.metric_options == dataclasses.asdict(metric.options)
            assert set(plan.protocol.metric_options) == {f.name for f in dataclasses.fields(PCKOptions)}
        else:
            assert plan.protocol.metric_options == {"mode": metric.mode}
    preset = get_preset("quick")
    full = preset.protocol("jhmdb", 4, "shuffled")
    assert (full.temporal_stride, full.temporal_input, full.tracker.iou_threshold) == (4, "shuffled", 0.0)
    assert full.intervals.resamples == 200 and full.speed == SpeedSettings(videos=1)


def test_tracker_and_boxes_are_built_from_the_settings():
    settings = TrackerSettings("hungarian", 0.0)
    tracker = settings.build()
    assert (tracker.matching, tracker.threshold) == ("hungarian", 0.0)
    assert TrackerSettings.of(tracker) == settings
    assert isinstance(BoxSettings().build(), GTBoxes)
    jitter = BoxSettings("gt-jitter", {"shift": 0.2, "seed": 3}).build()
    assert isinstance(jitter, JitteredGTBoxes) and jitter.config.shift == 0.2 and jitter.config.seed == 3
    with pytest.raises(UserError, match="detections file"):
        BoxSettings("detections").build()
