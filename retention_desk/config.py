"""Settings read from the environment, checked once at start-up so a bad value fails with one sentence."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "change_me", "secret", "dev", "development", "please-change", "xxx", "todo"}
)
MIN_SECRET_LENGTH = 16


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one sentence an operator can act on."""


def default_instance_path() -> Path:
    return Path(os.environ.get("RETENTION_DESK_INSTANCE_PATH", "instance")).resolve()


MAX_OFFERS_PER_CALL = 5  # the most a configuration may allow; a caller hears no more


@dataclass(frozen=True)
class OfferPolicy:
    """How the desk chooses among counter-offers; see docs/offers.md for what each knob trades."""

    explore_share: float = 0.05  # calls whose first offer is drawn at random among the permitted ones
    holdout_share: float = 0.02  # calls that get no offer at all, to measure what offering adds
    max_offers_per_call: int = 2  # offers presented before the desk moves on to the cancellation
    margin_share: float = 0.35  # share of the monthly charge that is margin, for a subscriber's value
    explore_by_rank: bool = True  # explored offers drawn with weight 1 / (their rank by value); False: uniformly

    def __post_init__(self) -> None:
        if not (0 <= self.explore_share <= 0.5 and 0 <= self.holdout_share <= 0.5):
            raise ConfigError("The exploration and hold-out shares must each be between 0 and 0.5.")
        if not 1 <= self.max_offers_per_call <= MAX_OFFERS_PER_CALL:
            raise ConfigError(f"The number of offers per call must be between 1 and {MAX_OFFERS_PER_CALL}.")
        if not 0 < self.margin_share <= 1:
            raise ConfigError("The margin share must be above 0 and at most 1.")

    @classmethod
    def from_env(cls) -> OfferPolicy:
        return cls(
            explore_share=_float_env("RETENTION_DESK_EXPLORE_SHARE", cls.explore_share),
            holdout_share=_float_env("RETENTION_DESK_HOLDOUT_SHARE", cls.holdout_share),
            max_offers_per_call=_int_env("RETENTION_DESK_MAX_OFFERS_PER_CALL", cls.max_offers_per_call),
            margin_share=_float_env("RETENTION_DESK_MARGIN_SHARE", cls.margin_share),
            explore_by_rank=_flag_env("RETENTION_DESK_EXPLORE_BY_RANK", cls.explore_by_rank),
        )


@dataclass(frozen=True)
class Settings:
    """Everything the app and the CLI need to know about their surroundings."""

    database_url: str
    model_dir: Path
    instance_path: Path
    secret_key: str | None
    demo: bool = False
    testing: bool = False
    phone_region: str = "NO"
    currency: str = "NOK"
    default_locale: str = "en"
    login_attempts: int = 5  # failed sign-ins per username inside the window before throttling
    login_attempts_per_address: int = 20  # the same, per client address
    login_window_seconds: int = 300
    session_cookie_secure: bool = False
    proxy_hops: int = 0  # reverse proxies in front of the app whose X-Forwarded-* headers are trusted
    offer_policy: OfferPolicy = field(default_factory=OfferPolicy)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, *, demo: bool = False) -> Settings:
        instance = default_instance_path()
        url = os.environ.get("RETENTION_DESK_DATABASE_URL") or f"sqlite:///{instance / 'retention_desk.sqlite3'}"
        return cls(
            database_url=url,
            model_dir=Path(os.environ.get("RETENTION_DESK_MODEL_DIR", "models")).resolve(),
            instance_path=instance,
            secret_key=os.environ.get("RETENTION_DESK_SECRET_KEY"),
            demo=demo,
            phone_region=os.environ.get("RETENTION_DESK_PHONE_REGION", "NO"),
            currency=os.environ.get("RETENTION_DESK_CURRENCY", "NOK"),
            default_locale=os.environ.get("RETENTION_DESK_LOCALE", "en"),
            session_cookie_secure=os.environ.get("RETENTION_DESK_SECURE_COOKIES", "0") == "1",
            proxy_hops=_int_env("RETENTION_DESK_PROXY_HOPS", 0),
            offer_policy=OfferPolicy.from_env(),
        )

    def with_demo_secret(self) -> Settings:
        """The demo keeps a random secret in its instance folder so sessions survive a restart."""
        if self.secret_key and not is_placeholder_secret(self.secret_key):
            return self
        self.instance_path.mkdir(parents=True, exist_ok=True)
        path = self.instance_path / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return replace(self, secret_key=path.read_text().strip())

    def check_secret(self) -> None:
        if self.testing or self.demo:
            return
        if not self.secret_key or is_placeholder_secret(self.secret_key):
            raise ConfigError(
                "RETENTION_DESK_SECRET_KEY is missing or a placeholder; set it to a long random value, "
                'for example the output of: python -c "import secrets; print(secrets.token_hex(32))".'
            )

    def check_model_dir(self) -> None:
        """The nightly job and the demo write artifacts here; find out now rather than after training."""
        try:
            self.model_dir.mkdir(parents=True, exist_ok=True)
            probe = self.model_dir / f".write-test-{os.getpid()}"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"The model folder {self.model_dir} is not writable ({exc.strerror}); "
                "set RETENTION_DESK_MODEL_DIR to a folder this user can write."
            ) from None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative.")
    return value


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number such as 0.05, not {raw!r}.") from None


def _flag_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def is_placeholder_secret(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDER_SECRETS or len(value.strip()) < MIN_SECRET_LENGTH


def test_settings(database_url: str, tmp_dir: Path) -> Settings:
    """Settings for the test suite: its own database and folders, never a configured one."""
    return Settings(
        database_url=database_url,
        model_dir=tmp_dir / "models",
        instance_path=tmp_dir / "instance",
        secret_key="test-secret-key-not-for-production",
        testing=True,
    )


test_settings.__test__ = False  # a factory for the test suite, not a test itself
