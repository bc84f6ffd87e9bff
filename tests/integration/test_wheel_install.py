"""A plain install works: the wheel, installed (not editable) in a fresh virtualenv, runs anywhere.

The wheel is built offline from a copy of the sources, installed with only its declared
dependencies (constrained to the locked versions, as the Dockerfile installs them), and then used
as a user would: ``icp demo`` from an empty folder, and ``icp serve`` in the container image's
layout (``/app`` as the working folder, ``/data`` for the stores, the image's environment), which
must load every packaged prompt and run an interview over signed HTTP.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.prompt_files import packaged_root
from bot.services.interviews.questions import load_question_set
from tests.support.harness import (
    ADMIN_ID,
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackDriver,
    StandInSlack,
    free_port,
    http_request,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "bot", "icp_engine", "prompts")
UV = Path(sys.executable).with_name("uv")
#: Variables of the developer's or CI's environment that would make the install find the checkout.
LEAKS = ("PYTHONPATH", "VIRTUAL_ENV", "PROMPTS_DIR", "DATA_DIR", "DATABASE_URL", "LLM_", "OPENAI_", "SLACK_")


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path

    @property
    def icp(self) -> Path:
        return self.venv / "bin" / "icp"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def _run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    process = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert process.returncode == 0, f"{args}: {process.stdout[-2000:]}\n{process.stderr[-3000:]}"
    return process


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKS)}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, src / name)
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", root / "dist", src])
    (wheel,) = (root / "dist").glob("icp_assistant-*.whl")
    constraints = root / "constraints.txt"
    _run(
        [
            UV,
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--output-file",
            constraints,
        ],
        cwd=REPO,
    )
    venv = root / "venv"
    _run([UV, "venv", "--quiet", "--python", sys.executable, venv])
    # The wheel's own declared dependencies, nothing else: a missing one fails the tests below.
    _run([UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python", "-c", constraints, wheel])
    return Installed(venv=venv, wheel=wheel)


def test_the_wheel_carries_the_prompts_and_the_install_does_not_read_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    probe = _run(
        [installed.python, "-c", "import prompts, bot, icp_engine; print(prompts.__file__, bot.__file__)"],
        cwd=tmp_path,
        env=_clean_env(),
    )
    for location in probe.stdout.split():
        assert "site-packages" in location and not location.startswith(str(REPO)), location
    version = _run([installed.icp, "--version"], cwd=tmp_path, env=_clean_env())
    assert re.fullmatch(r"icp-assistant \d+\.\d+\.\d+\S*\n", version.stdout)


def test_icp_demo_runs_from_an_empty_folder_with_no_other_step(installed: Installed, tmp_path: Path) -> None:
    cwd = tmp_path / "empty"
    cwd.mkdir()
    env = _clean_env(LLM_PROVIDER="offline", COLUMNS="120", HOME=str(tmp_path / "home"))
    process = _run([installed.icp, "demo", "--out", "out"], cwd=cwd, env=env)
    assert "Traceback" not in process.stderr + process.stdout
    transcript = (cwd / "out" / "transcript.md").read_text(encoding="utf-8")
    # The interviews ran on the packaged question sets, and a draft was made from them.
    assert "interview" in transcript.lower() and "draft" in transcript.lower()
    assert sorted(p.name for p in cwd.iterdir()) == ["out"]


def _image_environment() -> dict[str, str]:
    """The ``ENV`` of the Dockerfile's final stage, read from the file (so the two cannot drift)."""
    final_stage = (REPO / "deploy" / "Dockerfile").read_text().split("\nFROM ")[-1]
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", final_stage, re.M)
    assert block, "the final stage sets no ENV"
    pairs = re.findall(r"([A-Z_]+)=(\S+)", block.group(1))
    return {name: value for name, value in pairs if name != "PATH"}


def test_icp_serve_in_the_image_layout_loads_every_prompt_and_interviews(
    installed: Installed, tmp_path: Path, stand_in: StandInSlack
) -> None:
    app, data = tmp_path / "app", tmp_path / "data"
    app.mkdir()
    data.mkdir()
    image = _image_environment()
    assert image["DATA_DIR"] == "/data"
    env = _clean_env(**image)
    env.update(
        DATA_DIR=str(data),  # the image's /data volume, here in a temp folder
        PATH=f"{installed.venv / 'bin'}:{env.get('PATH', '')}",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=stand_in.api_url,
        HOME=str(app),
    )
    _run(["icp", "db", "upgrade"], cwd=app, env=env)
    port = free_port()
    proc = subprocess.Popen(
        ["icp", "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
        cwd=app,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else "icp serve exited"
            try:
                health = http_request(f"{url}/healthz", timeout=2)
                if health.status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "icp serve --http did not come up"
            time.sleep(0.2)
        driver = SlackDriver(url, stand_in)
        sales = load_question_set("sales")
        reply = driver.slash_reply("interview <@U0SAM|sam> role=sales", user_id=ADMIN_ID)
        assert f"Invited <@U0SAM> ({sales.title} questions)" in reply.all_text()
        # The invitation, worded from the packaged sales question set, reached the interviewee's DM.
        stand_in.wait_for(
            "chat.postMessage",
            lambda call: (
                call.params.get("channel") == "D0SAM" and f"{len(sales)} short questions" in call.all_text()
            ),
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log = proc.stderr.read() if proc.stderr else ""
    loaded = re.search(r"loaded (\d+) prompt and question files", log)
    assert loaded, log[-3000:]
    installed_files = sorted(installed.venv.glob("lib/python*/site-packages/prompts/**/*.yaml"))
    assert int(loaded.group(1)) == len(installed_files) == len(list(packaged_root().rglob("*.yaml")))
    assert not list(app.iterdir()) or all(p.name.startswith(".") for p in app.iterdir())
