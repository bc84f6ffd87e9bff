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
            "app_mentions:read,channels:history,channels:read,chat:write,commands,files:read,files:write,groups:history,"
            "im:history,im:read,im:write,users:read"
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
        description="Comma-separated Slack user ids who own the ICP; unset means admins and the installer.",
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
    score_processes: int = Field(
        default=0,
        ge=0,
        le=16,
        description="Worker processes that answer `/icp score` beside the server, so acks never wait "
        "behind scoring (0: on the server's own threads).",
    )

    openai_api_key: SecretStr | None = Field(
        default=None, description="OpenAI API key (also sent to an OpenAI-compatible server if set)."
    )
    openai_base_url: str | None = Field(
        default=None,
        description="Override of the OpenAI API URL (a proxy or gateway) for LLM_PROVIDER=openai.",
    )
    llm_provider: Literal["auto", "openai", "openai-compatible", "offline"] = Field(
        default="auto",
        description=(
            "Which language model drafts and chats: 'openai', 'openai-compatible' (LLM_BASE_URL: "
            "Ollama, vLLM, llama.cpp, LM Studio...), 'offline' (no model: deterministic drafts), or "
            "'auto': openai-compatible if LLM_BASE_URL is set, else openai if OPENAI_API_KEY is set, "
            "else offline."
        ),
    )
    llm_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1."
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to the LLM provider.")
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
        """The configured ICP owners (empty: fall back to workspace admins and the installer)."""
        return frozenset(part.strip() for part in (self.icp_owners or "").split(",") if part.strip())

    @property
    def oauth_enabled(self) -> bool:
        """Multi-workspace installs need both halves of the OAuth client credentials."""
        return bool(self.slack_client_id and self.slack_client_secret)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
