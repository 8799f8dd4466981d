"""Functions that torch's elastic launcher runs in each rank of the data-parallel tests."""

from __future__ import annotations

import os
import signal

import torch


def step_in_float64(root: str, batch_size: int) -> dict:
    """One training step of the tiny baseline on the synthetic root, in float64, alone or as
    this rank of a process group: the global loss, the gradients (averaged over the ranks by
    DistributedDataParallel) and the BatchNorm statistics after the step."""
    from vposebench.data_parallel import environment_ranks, process_group, shard
    from vposebench.interface import build_method
    from vposebench.registry import DATASETS
    from vposebench.sync_batchnorm import synchronise_batchnorm
    from vposebench.training import TrainConfig, build_sampler, step_loss

    torch.set_num_threads(1)
    ranks = environment_ranks()
    with process_group(ranks, "cpu"):
        dataset = DATASETS.get("synthetic")(root, "train")
        torch.manual_seed(0)
        method = build_method("baseline", dataset.skeleton, preset="tiny")
        if ranks is not None:
            synchronise_batchnorm(method, torch.device("cpu"))
        method.double().train()
        first = next(m for m in method.modules() if isinstance(m, torch.nn.Conv2d))
        first.register_forward_pre_hook(lambda module, args: (args[0].double(),))
        params = list(method.parameters())
        videos = [dataset.load_video(n) for n in dataset.video_names()]
        sampler = build_sampler(method, dataset, videos, TrainConfig(batch_size=batch_size))
        compute = step_loss(method, params, ranks)  # alive until backward: it holds the DDP
        done = compute(sampler.batch(0, shard(batch_size, ranks)), False)
        done.loss.backward()
        return {"loss": done.value,
                "grads": {n: p.grad.clone() for n, p in method.named_parameters()},
                "buffers": {n: b.clone() for n, b in method.named_buffers()}}


def train_interrupted(request, at_step: int) -> str:
    """`train_cmd.train_process`, with Ctrl-C (SIGINT) reaching rank 0 after step `at_step`;
    return "interrupted" when training stopped for it."""
    from vposebench.commands.common import open_dataset
    from vposebench.data_parallel import environment_ranks, process_group
    from vposebench.training import TrainConfig, train

    torch.set_num_threads(1)
    ranks = environment_ranks()
    config = TrainConfig.from_dict(request.train_settings)

    def progress(step: int, total: int, loss: float) -> None:
        if step == at_step:
            os.kill(os.getpid(), signal.SIGINT)

    with process_group(ranks, "cpu"):
        dataset = open_dataset(request.dataset, request.root, config.split, "train")
        try:
            train(request.method, dataset, request.out, method_settings=request.method_settings,
                  config=config, progress=progress)
        except KeyboardInterrupt:
            return "interrupted"
    return "finished"
