"""`vposebench.atomic.atomic_directory`, added for the generator's many-file output."""

import pytest

from vposebench.atomic import atomic_directory, atomic_write


def test_a_clean_exit_replaces_the_folder_whole(tmp_path):
    target = tmp_path / "root"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_directory(target) as staging:
        assert staging.parent == tmp_path and staging != target
        with atomic_write(staging / "sub" / "new.txt", durable=False) as handle:
            handle.write("new")
        assert (target / "old.txt").exists()  # untouched until the block ends
    assert sorted(p.name for p in target.rglob("*")) == ["new.txt", "sub"]
    assert [p.name for p in tmp_path.iterdir()] == ["root"]


def test_an_error_keeps_the_old_folder_and_removes_the_partial_one(tmp_path):
    target = tmp_path / "root"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as staging:
            (staging / "half.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["root"]


def test_creates_a_new_folder(tmp_path):
    with atomic_directory(tmp_path / "a" / "b") as staging:
        (staging / "x").write_text("1")
    assert (tmp_path / "a" / "b" / "x").read_text() == "1"
