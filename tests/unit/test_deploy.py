"""deploy/ is validated statically here (no Docker engine on these machines; see deploy/README.md).

The manifests must ask for exactly the scopes the OAuth flow requests and subscribe to every event
a listener handles; the compose file must wire the bot to PostgreSQL and Chroma with health checks;
`.env.example` must be exactly what `icp config --env` renders from the Settings object.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings
from bot.settings_doc import env_example, markdown_table, setting_docs

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
MANIFESTS = ("manifest.http.yaml", "manifest.socket.yaml")


def _listened_events() -> set[str]:
    """Every `@app.event("...")` in the listeners, as the manifest names them."""
    names: set[str] = set()
    for path in (ROOT / "bot" / "slack" / "listeners").rglob("*.py"):
        names |= set(re.findall(r"@app\.event\(\s*\"([a-z_.]+)\"", path.read_text()))
    assert {"app_mention", "file_shared", "message"} <= names, "the listener scan found no listeners"
    # Message listeners only serve DMs (message.im); app_mention covers channels and threads.
    return {"message.im" if name == "message" else name for name in names}


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_scopes_and_events_match_the_app(name: str) -> None:
    manifest = yaml.safe_load((DEPLOY / name).read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == set(Settings().slack_scopes.split(","))
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert _listened_events() <= events
    assert {"app_home_opened", "app_uninstalled", "tokens_revoked"} <= events
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/icp"]
    # Picked people and channels arrive as ids (<@U…>, <#C…>), not as ambiguous plain names.
    assert manifest["features"]["slash_commands"][0]["should_escape"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_http_manifest_points_every_url_at_the_one_events_path() -> None:
    manifest = yaml.safe_load((DEPLOY / "manifest.http.yaml").read_text())
    settings = manifest["settings"]
    urls = [
        manifest["features"]["slash_commands"][0]["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert all(url.startswith("https://") and url.endswith("/slack/events") for url in urls)
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    assert settings["socket_mode_enabled"] is False


def test_socket_manifest_needs_no_public_url() -> None:
    manifest = yaml.safe_load((DEPLOY / "manifest.socket.yaml").read_text())
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "request_url" not in manifest["settings"]["interactivity"]


def test_compose_wires_the_bot_to_postgres_and_chroma_with_health_checks() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"bot", "postgres", "chroma"}
    for service in services.values():
        assert service["healthcheck"]["test"], service
    bot = services["bot"]
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in bot["environment"]["DATABASE_URL"]
    assert bot["environment"]["CHROMA_HOST"] == "chroma"
    assert {name: dep["condition"] for name, dep in bot["depends_on"].items()} == {
        "postgres": "service_healthy",
        "chroma": "service_healthy",
    }
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve().is_file()
    # Every named volume is declared, so data survives a restart.
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert used <= set(compose["volumes"])
    # Every variable the compose file sets is a real setting (a typo would be silently ignored).
    envs = {doc.env for doc in setting_docs()}
    assert set(bot["environment"]) <= envs


def test_dockerfile_runs_as_non_root_with_a_healthcheck_and_no_downloads_at_run_time() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    final_stage = text.split("\nFROM ")[-1]
    user = re.search(r"^USER (\S+)", final_stage, re.M)
    assert user and user.group(1) not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*", final_stage, re.M)
    assert "/healthz" in final_stage
    for var in ("ORT_DISABLE_TELEMETRY=1", "ANONYMIZED_TELEMETRY=False"):
        assert var in final_stage
    # Installed from the lock (hashes checked) plus the wheel, whose package data holds the prompts.
    assert "uv export --frozen" in text and "--require-hashes" in text
    assert "--no-deps /dist/*.whl" in text
    # Bytecode compiled at build time: the runtime user cannot write it, and every import worker
    # would compile each module it loads again.
    installs = [line for line in text.splitlines() if "uv pip install" in line]
    assert installs and all("--compile-bytecode" in line for line in installs)
    assert "prompts" not in final_stage  # nothing copied beside the wheel that the code would not read


def test_env_example_is_what_the_settings_object_renders() -> None:
    assert (DEPLOY / ".env.example").read_text() == env_example(), (
        "deploy/.env.example is stale: run `icp config --env > deploy/.env.example`"
    )


def test_every_setting_is_documented_and_secrets_have_no_default() -> None:
    docs = setting_docs()
    assert {d.env for d in docs} == {name.upper() for name in Settings.model_fields}
    for doc in docs:
        assert doc.description.removeprefix("Secret.").strip(), f"{doc.env} has no description"
        if doc.secret:
            assert doc.default == ""
    table = markdown_table()
    assert table.count("\n") == len(docs) + 2
    assert all(f"`{d.env}`" in table for d in docs)


def test_readme_configuration_table_is_what_the_settings_object_renders() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- settings:start -->\n", "<!-- settings:end -->"
    assert start in readme and end in readme
    table = readme.split(start, 1)[1].split(end, 1)[0]
    assert table == markdown_table(), "README's configuration table is stale: paste `icp config --markdown`"
