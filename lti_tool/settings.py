"""Typed settings: defaults < config/*.toml < environment (MICROREVIEW_*)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lti_tool.exceptions import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.toml"
DEFAULT_SECRET = "dev-insecure-change-me"


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by MICROREVIEW_CONFIG (or config/default.toml)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("MICROREVIEW_CONFIG") or DEFAULT_CONFIG)
        if not path.exists():
            if "MICROREVIEW_CONFIG" in os.environ:
                raise ConfigError(f"MICROREVIEW_CONFIG points at {path}, which does not exist")
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        return {key.lower(): value for key, value in data.items()}


class Settings(BaseSettings):
    """Everything the tool can be configured with; see config/default.toml for documentation."""

    model_config = SettingsConfigDict(env_prefix="MICROREVIEW_", extra="ignore")

    env: Literal["development", "demo", "test", "production"] = "development"
    secret_key: str = DEFAULT_SECRET
    base_url: str = "http://127.0.0.1:5000"
    database_url: str = "sqlite:///instance/microreview.db"
    redis_url: str = ""
    demo_platform: bool = True
    launch_token_ttl: int = Field(default=3600, ge=60)
    login_state_ttl: int = Field(default=600, ge=30)
    iat_max_age: int = Field(default=600, ge=30)
    clock_skew: int = Field(default=60, ge=0)
    jwks_default_ttl: int = Field(default=300, ge=0)
    nrps_refresh_seconds: int = Field(default=300, ge=0)
    http_timeout: float = Field(default=10.0, gt=0)
    log_level: str = "INFO"
    allow_http_platforms: bool = True
    import_upload_dir: str = ""
    import_max_upload_mb: int = Field(default=200, ge=1, le=4096)
    xapi_batch_size: int = Field(default=200, ge=1, le=5000)
    xapi_sign_statements: bool = False
    # Delivered statements stay in the outbox this long (the LRS keeps them; dead letters stay).
    xapi_outbox_keep_days: int = Field(default=7, ge=0)

    # --- Review scheduling, reminders and background jobs (issue 4) ---------------------------
    huey_sqlite_path: str = "instance/huey.db"
    huey_name: str = "microreview"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_timeout: float = Field(default=10.0, gt=0)
    mail_sender: str = "Microreview <no-reply@localhost>"
    reminders_enabled: bool = True
    reminder_hour: int = Field(default=9, ge=0, le=23)
    reminder_quiet_start: int = Field(default=21, ge=0, le=23)
    reminder_time_zone: str = "UTC"
    reminder_link_ttl: int = Field(default=3 * 24 * 3600, ge=300)
    # SMTP connections a reminder sweep sends over at once (a relay takes several in parallel;
    # one connection mostly waits for the server's replies).
    reminder_smtp_connections: int = Field(default=4, ge=1, le=32)
    digest_weekday: int = Field(default=0, ge=0, le=6)
    digest_overdue_days: int = Field(default=2, ge=0)
    fitting_min_reviews: int = Field(default=400, ge=50)
    # Reminder claims (what makes a rerun never send twice) are kept this long.
    reminder_sends_keep_days: int = Field(default=35, ge=2)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def is_production(self) -> bool:
        """True when running as a real deployment (no demo platform, strict checks)."""
        return self.env == "production"

    @property
    def demo_enabled(self) -> bool:
        """The demo platform exists only outside production."""
        return self.demo_platform and not self.is_production

    def check(self) -> None:
        """Refuse unsafe production configurations, saying what to change."""
        if not self.is_production:
            return
        if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
            raise ConfigError(
                "MICROREVIEW_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (make one with: python -c 'import secrets; "
                "print(secrets.token_hex(32))')"
            )
        if not self.base_url.startswith("https://"):
            raise ConfigError(
                "MICROREVIEW_BASE_URL must be an https:// URL in production: LMSs launch tools "
                "over HTTPS only and cookies need the Secure flag"
            )


def load_settings(**overrides: Any) -> Settings:
    """Build settings from defaults, the TOML file and the environment, then check them."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {name!r}: {first['msg']}") from exc
    settings.check()
    return settings
