"""The distribution installs `vposebench` only, both as a wheel and editable."""

import subprocess
import sys
import zipfile
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def test_every_source_package_is_declared():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    on_disk = set()
    for name, folder in mapping.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            on_disk.add(".".join([name, *rel.parts]) if rel.parts else name)
    declared = set(config["packages"])
    # subpackages of vposebench.methods/datasets are found under their own mapping
    assert on_disk == declared


def test_no_top_level_datasets_or_methods_module(tmp_path):
    code = (
        "import importlib.util as u, vposebench.datasets, vposebench.methods\n"
        "for name in ('methods', 'bench', 'datasets'):\n"
        "    spec = u.find_spec(name)\n"
        "    print(name, None if spec is None else spec.origin)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    for line in out.stdout.splitlines():
        name, origin = line.split(" ", 1)
        # Hugging Face `datasets` may be installed; ours must never be what `datasets` finds
        assert origin == "None" or (name == "datasets" and str(REPO) not in origin), line


def _build_wheel(tmp_path: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(REPO)],
        check=True,
    )
    return next(tmp_path.glob("vposebench-*.whl"))


def test_wheel_contains_only_vposebench_and_imports(tmp_path):
    wheel = _build_wheel(tmp_path / "wheel")
    with zipfile.ZipFile(wheel) as zf:
        tops = {name.split("/")[0] for name in zf.namelist()}
        plans = sorted(n for n in zf.namelist() if n.startswith("vposebench/plans/") and n.endswith(".toml"))
        entry_points = zf.read(next(n for n in zf.namelist() if n.endswith("entry_points.txt"))).decode()
    assert tops == {"vposebench", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    assert "vposebench = vposebench.cli:main" in entry_points
    # the presets are package data: `vposebench run --preset NAME` reads them from the install
    assert plans == [f"vposebench/plans/{name}.toml" for name in ("default", "fair", "full", "quick")]
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True)
    code = ("import vposebench, vposebench.methods, vposebench.datasets, vposebench.formats.reader;"
            "from vposebench.experiments import preset_path;"
            "print(vposebench.__file__); print(vposebench.datasets.__file__); print(preset_path('quick'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(target), "PATH": ""}, cwd=tmp_path)
    lines = out.stdout.split()
    assert all(line.startswith(str(target)) for line in lines)


def test_editable_install_maps_the_source_folders(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    # build the PEP 660 editable wheel here (setuptools is in this environment), install it there
    wheels = tmp_path / "editable"
    build = ("import sys; from setuptools import build_meta as b;"
             "print(b.build_editable(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", build, str(wheels)], cwd=REPO, check=True,
                   capture_output=True)
    wheel = next(wheels.glob("vposebench-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                    "--no-deps", str(wheel)], check=True)
    # the bare venv has no numpy: resolve the subpackages without executing them
    code = ("import importlib.util as u, vposebench; print(vposebench.__file__);"
            "print(u.find_spec('vposebench.methods').origin);"
            "print(u.find_spec('vposebench.datasets').origin)")
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    files = [Path(line) for line in out.stdout.split()]
    assert files == [REPO / "bench/__init__.py", REPO / "methods/__init__.py", REPO / "datasets/__init__.py"]
