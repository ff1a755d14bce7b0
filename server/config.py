"""Settings of a tongban process: one pydantic-settings class, read from `TONGBAN_*` variables.

Every setting has a default that works on a developer's machine. Nothing else in the code base
reads `os.environ`. Must not: open connections or start services (see `server.services`).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGBAN_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL DSN. Unset: the embedded PostgreSQL under `var_dir` is started and used.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL. Unset: the embedded Redis under `var_dir` is started and used.",
    )
    keys_dir: Path | None = Field(
        default=None,
        description="Secret key files (audit MAC …), made on first use. Unset: `var_dir/keys`.",
    )
    var_dir: Path = Field(default=Path("var"), description="Data of the embedded services, uploads, secrets.")
    host: str = Field(default="127.0.0.1", description="Address the web server binds to.")
    port: int = Field(default=8000, description="Port the web server listens on.")
    redis_prefix: str = Field(default="tongban:", description="Prefix of every Redis key and channel we use.")
    db_pool_min: int = Field(default=2, description="Smallest number of pooled PostgreSQL connections.")
    db_pool_max: int = Field(default=20, description="Largest number of pooled PostgreSQL connections.")
    db_timeout_s: float = Field(default=5.0, description="Time limit of connecting to PostgreSQL.")
    db_statement_timeout_s: float = Field(default=30.0, description="Time limit of one SQL statement.")
    redis_timeout_s: float = Field(default=2.0, description="Time limit of one Redis call.")
    max_json_bytes: int = Field(default=10 * 1024 * 1024, description="Largest accepted JSON request body.")
    ask_timeout_s: float = Field(default=5.0, description="Time limit of a route's ask to an actor.")
    ws_queue_size: int = Field(
        default=256,
        description="Events queued for one websocket; beyond it the backlog becomes one snapshot.",
    )
    ws_max_overflows: int = Field(
        default=3,
        ge=0,
        description="Overflows of that queue within a minute before the client is closed (4409).",
    )
    ws_stall_s: float = Field(
        default=10.0, description="A send blocked this long (client not reading) drops it."
    )
    ws_send_buffer_bytes: int = Field(
        default=262_144,
        ge=4096,
        description="Kernel send buffer of one websocket (bounds a slow client's cost).",
    )
    ws_heartbeat_s: float = Field(default=30.0, gt=0, description="Interval of websocket heartbeat frames.")
    ws_idle_timeout_s: float = Field(
        default=0.0, ge=0, description="No frame from a client this long closes it (4408); 0: no limit."
    )
    ws_ping_interval_s: float = Field(default=60.0, gt=0, description="Interval of protocol-level pings.")
    ws_ping_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="A client that does not answer a protocol ping within this is dropped.",
    )
    ws_client_rate: float = Field(default=5.0, description="Frames per second a client may send, on average.")
    ws_client_burst: int = Field(
        default=20, description="Frames a client may send at once; 2x over closes (4429)."
    )
    ws_max_frame_bytes: int = Field(default=65_536, description="Largest websocket frame a client may send.")
    collab_max_update_bytes: int = Field(
        default=65_536,
        ge=1024,
        description="Largest document update one client message may carry (bigger: closed with 4413).",
    )
    collab_max_doc_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=4096,
        description="Largest encoded state of one collaborative document; updates past it are refused.",
    )
    collab_client_rate: float = Field(
        default=50.0,
        gt=0,
        description="Messages per second one collaborative-editing client may send on average.",
    )
    collab_client_burst: int = Field(
        default=200,
        ge=1,
        description="Messages one editing client may send at once before it is closed (4429).",
    )
    collab_max_versions: int = Field(
        default=200,
        ge=1,
        description="Named versions one collaborative document may keep (each holds the whole state).",
    )
    collab_recheck_s: float = Field(
        default=30.0,
        gt=0,
        description="How often an open collaborative socket re-checks its session and rights (on its next message).",
    )
    actor_lease_ttl_s: float = Field(
        default=3.0, description="Node liveness lease: a dead node's actors move after at most this."
    )
    actor_idle_s: float = Field(default=300.0, description="An actor without messages this long is freed.")
    timer_poll_s: float = Field(default=0.5, description="How often each node looks for due durable timers.")
    node_id: str | None = Field(default=None, description="Name of this server node. Unset: host-pid-random.")
    session_ttl_s: int = Field(
        default=30 * 60, description="Idle lifetime of a login session (等保: 30 min)."
    )
    session_absolute_s: int = Field(
        default=12 * 3600, description="Longest life of a login session however active (ASVS 7.3.2)."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins of one name before it locks (等保)."
    )
    login_lock_s: int = Field(default=15 * 60, ge=1, description="How long a name stays locked after them.")
    password_policy: Literal["mlps_level2", "asvs_l2"] = Field(
        default="mlps_level2",
        description="Password rules: 等保 level 2 (8+ chars, 3 classes, 90-day age, no reuse of 5) or ASVS L2.",
    )
    pii_key_version: int = Field(
        default=1, ge=1, description="SM4 key `pii-<n>` new personal data is sealed with."
    )
    sms_provider: Literal["dev", "http"] = Field(
        default="dev",
        description="`dev`: SMS kept in Redis for the demo inbox, never sent; `http`: the gateway.",
    )
    sms_gateway_url: str | None = Field(default=None, description="SMS gateway endpoint (sms_provider=http).")
    sms_gateway_app_key: str | None = Field(default=None, description="SMS gateway app key.")
    sms_gateway_secret: SecretStr | None = Field(default=None, description="SMS gateway signing secret.")
    sms_timeout_s: float = Field(default=3.0, description="Time limit of one request to the SMS gateway.")
    sms_max_attempts: int = Field(default=3, ge=1, description="Most tries of one SMS (5xx, timeouts only).")
    demo_password: SecretStr | None = Field(
        default=None, description="Password of the demo accounts. Unset: one is made and kept in `var_dir`."
    )
    log_level: str = Field(default="INFO", description="Logging level.")
    log_json: bool = Field(default=True, description="Log one JSON object per line (false: plain text).")
    worker_concurrency: int = Field(default=10, description="Jobs one arq worker runs at once.")
    files_dir: Path | None = Field(
        default=None,
        description="Uploaded files (parts and the SM3-addressed store). Unset: `var_dir/files`.",
    )
    files_max_bytes: int = Field(
        default=20 * 1024**3,
        ge=1,
        description="Largest single upload (Tus-Max-Size); bigger is refused with 413.",
    )
    files_quota_bytes: int = Field(
        default=200 * 1024**3,
        ge=1,
        description="Storage one enterprise may use: its drawings plus uploads in progress.",
    )
    files_upload_ttl_s: int = Field(
        default=24 * 3600,
        ge=60,
        description="An unfinished upload untouched this long expires and is removed.",
    )
    files_package_max: int = Field(
        default=2000, ge=1, description="Most files one package download may hold (bigger selections: 413)."
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?$",
        description="External base URL printed in documents' QR codes (`<url>/verify/<id>`). Unset: http://host:port.",
    )
    docgen_processes: int = Field(
        default=2,
        ge=1,
        le=32,
        description="Processes one worker renders documents in (CPU-bound: about one per core).",
    )
    odafc_path: Path | None = Field(
        default=None,
        description="ODA File Converter executable, for DWG output. Unset: documents are delivered as DXF only.",
    )
    deadline_warn_days: int = Field(
        default=3, ge=1, le=30, description="A case turns yellow this many days (unit below) before its due date."
    )
    deadline_warn_unit: Literal["workday", "calendar"] = Field(
        default="workday", description="Unit of deadline_warn_days: working days (default) or calendar days."
    )
    project_code_legacy_pattern: str | None = Field(
        default=None,
        description="Regex of 项目代码 in an older layout still accepted. Unset: GB/T 40058-2021 only.",
    )
    baojian_no_format: str = Field(
        default="BJ{year}{seq:06d}", description="Template of 报建编号 ({year}, {month}, {day}, {seq})."
    )
    lianshen_no_format: str = Field(
        default="LS{year}{month:02d}{seq:06d}", description="Template of 联审编号 ({year}, {month}, {day}, {seq})."
    )

    @field_validator("baojian_no_format", "lianshen_no_format")
    @classmethod
    def _number_template(cls, value: str) -> str:
        from server.projects.codes import check_template

        return check_template(value)

    bim_check_memory_bytes: int = Field(
        default=1536 * 1024**2,
        ge=256 * 1024**2,
        description="Address-space cap of the child process that checks one BIM model (1.5 GB).",
    )
    bim_checks_at_once: int = Field(
        default=2,
        ge=1,
        description="BIM model checks one worker runs at once (each a child of up to the memory cap); others wait.",
    )
    corpus_dir: Path = Field(
        default=Path("../shared/data"), description="Conformance corpus used by `make conformance` only."
    )

    @cached_property
    def var_path(self) -> Path:
        return self.var_dir.expanduser().resolve()

    @property
    def keys_path(self) -> Path:
        return (self.keys_dir or self.var_path / "keys").expanduser().resolve()

    @property
    def files_path(self) -> Path:
        return (self.files_dir or self.var_path / "files").expanduser().resolve()

    @property
    def verify_base(self) -> str:
        """The base of the verification URLs printed in QR codes."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def arq_queue(self) -> str:
        return f"{self.redis_prefix}arq:queue"


def get_settings() -> Settings:
    return Settings()
