"""The Slurm settings file of `--cluster slurm`: keys, checks, the SLURMCluster options."""

from __future__ import annotations

import pytest

from vposebench.errors import UserError
from vposebench.slurm_config import load_slurm_config


def test_slurm_settings_file(tmp_path):
    path = tmp_path / "slurm.toml"
    path.write_text('partition = "gpu"\ngpus = 2\ncores = 8\nmemory = "32GB"\n'
                    'walltime = "1-00:00:00"\njobs = 4\nextra = ["--constraint=a100"]\n')
    config = load_slurm_config(path)
    options = config.cluster_options()
    assert options["queue"] == "gpu" and options["cores"] == 8 and options["processes"] == 1
    assert options["job_extra_directives"] == ["--gres=gpu:2", "--constraint=a100"]
    assert options["worker_extra_args"] == ["--resources", "cpu=8,exclusive=1,gpu=2"]
    for text, field in [('walltime = "ten hours"', "walltime"), ('memory = "lots"', "memory"),
                        ("gpu = 1", "slurm settings"), ("cores = 0", "cores"), ("cores = [", None)]:
        path.write_text(text + "\n")
        with pytest.raises(UserError) as caught:
            load_slurm_config(path)
        assert str(path) in str(caught.value) and (field is None or field in str(caught.value))
    with pytest.raises(UserError, match="no Slurm settings file"):
        load_slurm_config(tmp_path / "absent.toml")
