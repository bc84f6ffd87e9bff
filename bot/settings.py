"""The one Settings object: every knob comes from the environment (or .env), with embedded defaults.

With nothing set, everything runs on this machine: SQLite and Chroma under ./data, offline
embeddings, the offline drafter. Secrets are `SecretStr` so they never print by accident.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import DirectoryPath, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the embedded stores keep their files.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means sqlite:///<data_dir>/icp.db."
    )
    chroma_path: Path | None = Field(
        default=None, description="Embedded Chroma folder; unset means <data_dir>/chroma."
    )
    chroma_host: str | None = Field(
        default=None, description="Chroma server host (scale-out); unset means embedded."
    )
    chroma_port: int = Field(default=8000, description="Chroma server port.")
    chroma_ssl: bool = Field(
        default=False, description="Talk to the Chroma server over HTTPS (TLS) instead of plain HTTP."
    )
    chroma_auth_token: SecretStr | None = Field(
        default=None,
        description="Token for a Chroma behind an authenticating proxy, or a hosted Chroma (`chroma "
        "run` 1.x checks no token itself); sent on every request in the header named by CHROMA_AUTH_HEADER.",
    )
    chroma_auth_header: Literal["Authorization", "X-Chroma-Token"] = Field(
        default="Authorization",
        description="How the Chroma token is sent: Authorization (as 'Bearer <token>') or "
        "X-Chroma-Token (the bare token), as the proxy or service in front of Chroma expects.",
    )
    chroma_tenant: str = Field(default="default_tenant", description="Chroma server tenant.")
    chroma_database: str = Field(default="default_database", description="Chroma server database.")
    prompts_dir: DirectoryPath | None = Field(
        default=None,
        description="A folder of customised prompt and interview files; a file there replaces the packaged "
        "one of the same relative path (e.g. interview/sales.yaml), every other file stays packaged.",
    )
    default_workspace: str = Field(
        default="local", description="Workspace id used by the CLI when none is given."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO",
        description="Least severe log records written (DEBUG, INFO, WARNING, ERROR, CRITICAL).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as readable text, or 'json': one object per line with the request's "
        "workspace, request id and latency (for log shippers).",
    )

    slack_bot_token: SecretStr | None = Field(
        default=None, description="Bot token (xoxb-…) for a single-workspace install."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Verifies that HTTP requests come from Slack (required with --http)."
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token (xapp-…, connections:write) for Socket Mode."
    )
    slack_client_id: str | None = Field(
        default=None, description="OAuth client id: set with the secret for multi-workspace installs."
    )
    slack_client_secret: SecretStr | None = Field(default=None, description="OAuth client secret.")
    slack_api_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL.")
    slack_scopes: str = Field(
        default=(
            "app_mentions:read,assistant:write,channels:read,chat:write,commands,files:read,files:write,"
            "im:history,im:write,users:read"
        ),
        description="Bot scopes requested by the OAuth install flow (comma-separated).",
    )
    slack_redirect_uri: str | None = Field(
        default=None, description="OAuth redirect URL; unset means the one configured in the Slack app."
    )
    slack_oauth_state_seconds: int = Field(
        default=600, ge=60, description="How long an OAuth install link stays valid."
    )
    icp_owners: str | None = Field(
        default=None,
        description="Slack user ids who own the ICP, replacing the defaults (workspace admins, the first "
        "installer, owners added with `/icp owners add`): `U1,U2` for every workspace, or per workspace "
        "`T123:U1,U2;T456:U3` (a workspace not listed keeps the defaults).",
    )
    token_encryption_key: SecretStr | None = Field(
        default=None,
        description="Fernet key that encrypts stored OAuth bot, user and refresh tokens, and CRM credentials (make one with "
        "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`); unset, "
        "Slack tokens are stored in plain text (with a warning at start) and CRM credentials under a key "
        "kept in DATA_DIR/secret.key (SQLite only: a shared database needs this key set).",
    )
    hubspot_api_url: str = Field(
        default="https://api.hubapi.com", description="HubSpot API base URL (`icp connect hubspot`)."
    )
    crm_ca_bundle: Path | None = Field(
        default=None,
        description="A CA bundle to trust for the CRM APIs (e.g. behind a TLS-inspecting proxy); unset: the "
        "system's CAs.",
    )
    crm_sync_hours: float = Field(
        default=24.0,
        ge=0,
        description="Hours between scheduled syncs of a connected CRM (`icp serve` runs them); 0 turns the "
        "schedule off (`/icp sync` and `icp sync` still work).",
    )
    crm_sync_claim_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Lease on a workspace's running CRM sync, renewed while it runs, so only one sync of a "
        "workspace runs at a time; after a crash the next sync can start once this has passed.",
    )
    crm_call_deadline_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long one CRM API call may keep retrying rate limits, 5xx answers and timeouts "
        "before the sync stops and says why.",
    )
    interview_reminder_hours: float = Field(
        default=48.0, gt=0, description="Quiet time before an unfinished interview gets a gentle reminder DM."
    )
    scheduler_poll_seconds: float = Field(
        default=60.0, gt=0, description="How often `icp serve` checks for due review and interview reminders."
    )
    scheduler_claim_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a replica holds a reminder it is sending; after a crash another one retries then.",
    )
    scheduler_enabled: bool = Field(
        default=True,
        description="Run the reminder loop inside `icp serve` (off: use `icp reminders run-due` from cron).",
    )
    import_processes: bool = Field(
        default=True,
        description=(
            "Import CSVs shared in Slack in a worker process beside the server, so acks never wait "
            "for an import (off: import on the server's own threads)."
        ),
    )
    import_claim_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Lease on a shared CSV being imported, renewed while the import runs; after a "
        "crash, sharing the same file again imports it once this has passed.",
    )
    score_processes: int = Field(
        default=0,
        ge=0,
        le=16,
        description="Worker processes that answer `/icp score` beside the server, so acks never wait "
        "behind scoring (0: on the server's own threads).",
    )
    command_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads that run `/icp` commands and button clicks after the ack (separate from chat).",
    )
    command_queue: int = Field(
        default=500,
        ge=0,
        le=100_000,
        description="Commands that may wait for a thread; beyond this a person gets a busy reply.",
    )
    chat_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Threads that answer chat questions (DMs, @-mentions); a slow model never holds up commands.",
    )
    chat_queue: int = Field(
        default=20,
        ge=0,
        le=100_000,
        description="Chat questions that may wait for a thread; beyond this the asker gets a busy reply.",
    )
    command_user_burst: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="`/icp` commands one person may send at once before being slowed.",
    )
    command_user_per_minute: float = Field(
        default=30.0,
        gt=0,
        le=100_000,
        description="`/icp` commands per minute one person regains after a burst (a token bucket per person).",
    )
    chat_user_burst: int = Field(
        default=3,
        ge=1,
        le=10_000,
        description="Chat questions one person may ask at once before being slowed.",
    )
    chat_user_per_minute: float = Field(
        default=6.0,
        gt=0,
        le=100_000,
        description="Chat questions per minute one person regains after a burst (a token bucket per person).",
    )
    http_max_connections: int = Field(
        default=200,
        ge=1,
        le=100_000,
        description="Open HTTP connections and requests the server holds at once; beyond this it answers 503.",
    )
    http_backlog: int = Field(
        default=128, ge=1, le=65_535, description="Connections the OS queues before the server accepts them."
    )
    http_keep_alive_seconds: int = Field(
        default=5, ge=1, le=300, description="How long an idle kept-alive HTTP connection stays open."
    )
    http_read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Time a client has to send a request's headers, and then its body, before it is dropped.",
    )
    http_max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        le=1_048_576,
        description="Largest request line plus headers the server reads; a larger request head gets 400.",
    )

    openai_api_key: SecretStr | None = Field(
        default=None, description="OpenAI API key (also sent to an OpenAI-compatible server if set)."
    )
    openai_base_url: str | None = Field(
        default=None,
        description="Override of the OpenAI API URL (a proxy or gateway) for LLM_PROVIDER=openai.",
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        description="Anthropic API key, for LLM_PROVIDER=anthropic (install the [anthropic] extra).",
    )
    anthropic_base_url: str | None = Field(
        default=None,
        description="Override of the Anthropic API URL (a proxy or gateway) for LLM_PROVIDER=anthropic.",
    )
    llm_provider: Literal["auto", "openai", "anthropic", "ollama", "openai-compatible", "offline"] = Field(
        default="auto",
        description=(
            "Which language model drafts and chats: 'openai', 'anthropic', 'ollama' (LLM_BASE_URL, "
            "default http://127.0.0.1:11434), 'openai-compatible' (LLM_BASE_URL: vLLM, llama.cpp, LM "
            "Studio...), 'offline' (no model: deterministic drafts), or 'auto': the provider named in "
            "LLM_MODEL ('anthropic:...'), else openai-compatible if LLM_BASE_URL is set, else openai if "
            "OPENAI_API_KEY is set, else anthropic if ANTHROPIC_API_KEY is set, else offline."
        ),
    )
    llm_base_url: str | None = Field(
        default=None,
        description=(
            "Base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1) or of Ollama "
            "(e.g. http://127.0.0.1:11434)."
        ),
    )
    llm_model: str = Field(
        default="gpt-4o-mini",
        description=(
            "Model name sent to the LLM provider; 'provider:model' (e.g. anthropic:claude-3-5-haiku-latest, "
            "ollama:llama3.2) also names the provider."
        ),
    )
    llm_tracing: bool = Field(
        default=False,
        description=(
            "Send LangSmith traces (prompts, so interview answers) to LANGSMITH_ENDPOINT. Off unless "
            "true: LANGSMITH_TRACING and LANGCHAIN_TRACING_V2 in the environment are overridden."
        ),
    )
    llm_timeout_seconds: float = Field(
        default=20.0, gt=0, le=120, description="Longest wait for one LLM request before it is retried."
    )
    llm_deadline_seconds: float = Field(
        default=45.0,
        gt=0,
        le=60,
        description="Longest one LLM call may take, retries included, so users get an answer or an error in time.",
    )
    llm_max_retries: int = Field(
        default=2, ge=0, le=10, description="Retries after a timeout, 429, 5xx or invalid structured output."
    )
    llm_prompt_token_budget: int = Field(
        default=12_000, ge=500, description="Most prompt tokens one LLM call may send (longer work is split)."
    )
    llm_max_output_tokens: int = Field(
        default=4_000, ge=16, description="Upper bound on the output tokens any one LLM call may ask for."
    )

    @field_validator("icp_owners")
    @classmethod
    def _owners_form(cls, value: str | None) -> str | None:
        _owners_by_team(value or "")  # raises a ValueError naming the bad part
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'icp.db'}"

    @property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def owner_ids(self) -> frozenset[str]:
        """ICP owners configured for every workspace (the plain ``U1,U2`` form; empty otherwise)."""
        return frozenset() if self.owners_by_team else _ids(self.icp_owners or "")

    @property
    def owners_by_team(self) -> dict[str, frozenset[str]]:
        """ICP owners configured per workspace (the ``T1:U1,U2;T2:U3`` form; empty otherwise)."""
        return _owners_by_team(self.icp_owners or "")

    def owners_for(self, team_id: str) -> frozenset[str]:
        """The configured ICP owners of ``team_id`` (empty: the defaults apply there)."""
        by_team = self.owners_by_team
        return by_team.get(team_id, frozenset()) if by_team else self.owner_ids

    @property
    def oauth_enabled(self) -> bool:
        """Multi-workspace installs need both halves of the OAuth client credentials."""
        return bool(self.slack_client_id and self.slack_client_secret)


def _ids(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _owners_by_team(text: str) -> dict[str, frozenset[str]]:
    """Parse ``T1:U1,U2;T2:U3``; plain ``U1,U2`` (no colon) gives {}. Raises ValueError when malformed."""
    if ":" not in text:
        return {}
    by_team: dict[str, frozenset[str]] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        team, sep, ids = part.partition(":")
        if not sep or not team.strip() or not _ids(ids) or ":" in ids:
            raise ValueError(
                f"ICP_OWNERS part {part!r} is not TEAM:USER[,USER…]; write e.g. T123:U1,U2;T456:U3 "
                "(or U1,U2 for every workspace)"
            )
        by_team[team.strip()] = by_team.get(team.strip(), frozenset()) | _ids(ids)
    return by_team


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
