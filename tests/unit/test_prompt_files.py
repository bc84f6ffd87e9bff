"""Prompts ship inside the package; PROMPTS_DIR replaces them file by file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.llm.prompts import llm_prompt_names, load_prompt
from bot.prompt_files import packaged_root, prompt_file, prompt_files
from bot.services.interviews.questions import load_question_set
from bot.settings import Settings, get_settings


@pytest.fixture
def prompts_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "our-prompts"
    folder.mkdir()
    monkeypatch.setenv("PROMPTS_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def test_packaged_prompts_are_found_through_the_package_not_the_checkout() -> None:
    root = packaged_root()
    assert (root / "__init__.py").is_file()
    assert (root / "interview" / "sales.yaml").is_file()
    assert prompt_file("drafting/icp.yaml") == root / "drafting" / "icp.yaml"


def test_an_overridden_question_set_replaces_only_that_file(prompts_dir: Path) -> None:
    packaged = yaml.safe_load((packaged_root() / "interview" / "sales.yaml").read_text(encoding="utf-8"))
    packaged["title"] = "Our own sales interview"
    (prompts_dir / "interview").mkdir()
    (prompts_dir / "interview" / "sales.yaml").write_text(yaml.safe_dump(packaged), encoding="utf-8")

    assert load_question_set("sales").title == "Our own sales interview"
    assert load_question_set("marketing").title != "Our own sales interview"
    assert prompt_file("interview/marketing.yaml").parent.parent == packaged_root()


def test_an_overridden_llm_prompt_is_loaded_and_listed_once(prompts_dir: Path) -> None:
    text = (packaged_root() / "drafting" / "summarise.yaml").read_text(encoding="utf-8")
    (prompts_dir / "drafting").mkdir()
    (prompts_dir / "drafting" / "summarise.yaml").write_text(
        text.replace("description:", "description: Customised.", 1), encoding="utf-8"
    )
    prompt = load_prompt("drafting/summarise")
    assert prompt.path == prompts_dir / "drafting" / "summarise.yaml"
    assert prompt.description.startswith("Customised.")
    names = list(llm_prompt_names())
    assert names.count("drafting/summarise") == 1
    assert "drafting/icp" in names
    assert dict(prompt_files())["drafting/icp.yaml"] == packaged_root() / "drafting" / "icp.yaml"


def test_a_broken_override_names_the_team_file(prompts_dir: Path) -> None:
    (prompts_dir / "drafting").mkdir()
    (prompts_dir / "drafting" / "icp.yaml").write_text("description: [unclosed", encoding="utf-8")
    with pytest.raises(ValueError, match=str(prompts_dir / "drafting" / "icp.yaml")):
        load_prompt("drafting/icp")


def test_a_prompts_dir_that_does_not_exist_is_refused_by_settings(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="prompts_dir"):
        Settings(prompts_dir=tmp_path / "missing")
