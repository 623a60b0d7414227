"""`pip install .` (a real, non-editable install) gives a working library, `tokviz` command and app.

The wheel is built from this checkout without network (no build isolation), installed into a folder of its own,
and used from a folder outside the checkout, so nothing is read from the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources, and the test run writes
    # nothing into the checkout.
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "tokviz", src / "tokviz", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(src)], check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("tokviz-*.whl")
    site = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return site


def _run(site: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_the_wheel_ships_every_floor_and_its_data(installed):
    pkg = installed / "tokviz"
    for part in ("__init__.py", "py.typed", "formats/ours.py", "viewmodels/render.py", "viewmodels/tokviz.css",
                 "pages/app.py", "pages/tokenize.py", "pages/observations.py"):
        assert (pkg / part).is_file(), part
    assert sorted(p.name for p in (pkg / "data").glob("*.tiktoken.gz")) == [
        "cl100k_base.tiktoken.gz", "o200k_base.tiktoken.gz", "p50k_base.tiktoken.gz", "r50k_base.tiktoken.gz"]
    assert (installed / "bin" / "tokviz").is_file()  # the console script


def test_the_installed_library_and_command_work_outside_the_checkout(installed, tmp_path):
    got = _run(installed, "import tokviz, sys; print(tokviz.__file__); "
                          "print(tokviz.load_tokenizer('cl100k_base').encode('hello world'))", tmp_path)
    assert got.returncode == 0, got.stderr
    where, ids = got.stdout.splitlines()
    assert where.startswith(str(installed)) and ids == "[15339, 1917]"
    cli = _run(installed, "import sys; from tokviz.cli.main import main; "
                               "sys.exit(main(['encode', 'hi', '-t', 'gpt2']))",
               tmp_path)
    assert cli.returncode == 0 and cli.stdout.split() == ["5303"], cli.stderr


def test_the_installed_app_runs(installed, tmp_path):
    # The app as `tokviz app` starts it (its script inside the installed package), under AppTest.
    code = (
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(installed / 'tokviz' / 'pages' / 'app.py')!r}, default_timeout=120).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        # The token panels are components (pages/widgets.draw_markup): their markup travels as the component's data.
        "print(sum('data-token-id' in c.proto.json for c in at.get('bidi_component')))\n"
    )
    env_cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(installed), "TOKVIZ_CACHE_DIR": str(env_cache)}
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=600)
    assert got.returncode == 0, got.stderr[-3000:]
    assert int(got.stdout.split()[-1]) >= 3  # at least three tokenizer panels drew tokens


def test_wheel_lists_no_source_tree_files(installed):
    # Nothing of the checkout's tests, benchmarks or docs is installed as a package.
    assert not (installed / "tests").exists() and not (installed / "bench").exists()
    dist = next(installed.glob("tokviz-*.dist-info"))
    assert "regex" in (dist / "METADATA").read_text()
    assert zipfile  # the wheel itself was read by pip; its RECORD is in dist-info
    assert (dist / "RECORD").is_file()
