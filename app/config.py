"""All settings in one place, read from LABELWISE_* environment variables.

Defaults make the embedded demo work with no servers: SQLite under the data directory and an
in-process worker (no broker).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # An empty variable counts as unset (docker compose passes every setting through, most of them empty).
    model_config = SettingsConfigDict(env_prefix="LABELWISE_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Field(default=Path("labelwise-data"), description="images, masks, weights, SQLite db")
    database_url: str | None = Field(default=None, description="default: SQLite in data_dir")
    broker_url: str | None = Field(default=None, description="Redis URL; unset = in-process worker")
    result_backend_url: str | None = Field(default=None, description="default: the broker URL")
    # How long a job taken by a worker that then died stays invisible before Redis hands it to another
    # worker: longer than the longest job (training is cut at train_max_seconds; a job runs <= 1 h).
    broker_visibility_timeout: int = Field(default=2 * 3600, ge=1)
    device: Literal["cpu", "cuda"] = "cpu"
    secret_key: str = Field(default="", description="CSRF signing key; default: generated per data dir")

    # Sessions live in the database (table user_session); the cookie carries only a random session id.
    # "auto": the cookie is Secure when the request came over https (uvicorn --proxy-headers behind TLS).
    cookie_secure: Literal["auto"] | bool = "auto"
    session_lifetime_seconds: int = Field(default=7 * 24 * 3600, gt=0, description="from login, at most")
    session_idle_seconds: int = Field(default=8 * 3600, gt=0, description="without a request, at most")
    # Login throttling: failed logins within the window, per user name and per client address.
    login_window_seconds: int = Field(default=5 * 60, gt=0)
    login_max_failures_per_name: int = Field(default=5, gt=0)
    login_max_failures_per_address: int = Field(default=20, gt=0)

    lease_seconds: int = 15 * 60
    # Quality control (app/review, app/queue/routing.py): a rejected task waits this long for its annotator
    # before anyone may take it; the this-many most uncertain ranked tasks go first to the top quality
    # tier, which needs at least `quality_min_evidence` scored answers (gold plus agreement).
    return_hold_seconds: int = Field(default=3 * 24 * 3600, gt=0)
    tier_reserve: int = Field(default=20, ge=0)
    quality_min_evidence: int = Field(default=5, ge=1)
    score_chunk_size: int = 16
    mc_samples: int = 8  # MC-dropout samples of the head when scoring
    max_upload_bytes: int = 20 * 1024 * 1024  # one image file of an upload
    # Request bodies, counted while they stream in (app/limits.py): 413 past these. The item upload route
    # may carry several images; mask submits and draft saves carry one PNG; everything else is JSON or a
    # small form.
    max_upload_request_bytes: int = 100 * 1024 * 1024
    max_mask_request_bytes: int = 32 * 1024 * 1024
    max_request_bytes: int = 1024 * 1024
    max_image_pixels: int = 4096 * 4096
    # The sweep on start deletes files no row points at only once they are this old: a file written
    # for a transaction still in flight in another process is never that old.
    orphan_grace_seconds: int = Field(default=600, ge=0)

    # Training schedule; tests shrink these. A step-based budget: a handful of labeled images still
    # gets enough updates to converge (epochs = steps / batches per epoch).
    train_steps: int = 250
    train_crop: int = 128  # random crops of this size; 0 = whole images
    train_max_seconds: float = 180.0
    train_batch_size: int = 8
    # Peak learning rate (cosine to 0). Measured on the well-log charts with the 16-channel U-Net, 3 seeds
    # each: 6e-3 beat 2e-3 on 8 labeled charts (fg mIoU 0.34 vs 0.30) and on 100 (0.41 vs 0.38 at 1.2e-2).
    train_lr: float = 6e-3
    unet_base_channels: int = 16
    # How a model version trains once the project has a representation (app/flows/training.py): "finetune"
    # the whole U-Net from its trunk, or "head": a light head (app.learning.head) on the frozen trunk, whose
    # per-image features are cached under the data dir so scoring is a head pass (bench/README.md, cachedscore).
    # Without a representation both train end to end.
    train_mode: Literal["finetune", "head"] = "finetune"
    head_steps: int = Field(default=200, ge=1, le=100_000)  # head mode: steps of the head's training

    # Model promotion: a new version goes live unless its validation foreground mIoU is worse than the
    # live version's by more than this; otherwise it is held back for a lead to promote (app.modeling.promotion).
    promotion_margin: float = Field(default=0.01, ge=0.0, le=1.0)
    # How often the periodic job looks for projects whose policy retrains on a schedule (Celery beat, or
    # the in-process ticker in the embedded mode).
    retrain_schedule_check_seconds: float = Field(default=60.0, gt=0)
    # The lead's desk (app/alerts): how often the periodic job checks SLAs, drift and due webhooks (Celery
    # beat and the in-process loop alike; 0 = never in the in-process loop), and the webhook's delivery.
    periodic_seconds: float = Field(default=60.0, ge=0)
    # Webhook URLs resolving to loopback, private or link-local addresses are refused unless an admin
    # allows them here (a test receiver on 127.0.0.1, an alert relay inside the network).
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_seconds: float = Field(default=30.0, ge=0, description="first retry; doubles each time")
    webhook_max_attempts: int = Field(default=6, ge=1)
    # Drift: a batch of new pool images is compared once at least this many arrived, against at most
    # this many labeled images.
    drift_min_batch: int = Field(default=5, ge=1)
    drift_reference_max: int = Field(default=64, ge=2)
    # Self-supervised pretraining of the project's trunk (app/flows/pretrain.py): once the pool holds 20
    # images, and again when it has grown by this share since the last representation (0.5 = half as many
    # images again); a bounded step count and wall time (tests shrink the steps).
    pretrain_regrow: float = Field(default=0.5, gt=0.0, le=100.0)
    pretrain_steps: int = Field(default=300, ge=1, le=100_000)
    pretrain_max_seconds: float = Field(default=600.0, gt=0)
    pretrain_batch_size: int = Field(default=16, ge=2, le=1024)
    pretrain_crop: int = Field(default=64, ge=8, le=1024)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'labelwise.sqlite3').resolve()}"

    @property
    def resolved_result_backend(self) -> str | None:
        return self.result_backend_url or self.broker_url

    @property
    def in_process_worker(self) -> bool:
        return not self.broker_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
