"""Configuration read from the environment, with safe development defaults."""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "gridpatrol-demo"


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration is unsafe or incomplete."""


def _dev_secret_key(var_dir: Path) -> str:
    # A development key survives restarts (so sessions survive `make run` twice) without being committed.
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@dataclass
class Settings:
    env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    media_dir: str = ""
    log_level: str = "INFO"
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 12 * 3600
    login_max_failures: int = 5
    login_window_s: int = 15 * 60
    login_lock_s: int = 15 * 60
    max_content_length: int = 32 * 1024 * 1024
    pwa_dist: str = ""
    basemap_url: str = ""
    basemap_attribution: str = ""
    basemap_subdomains: str = "abc"
    basemap_crs: str = "wgs84"
    tianditu_key: str = ""
    demo: bool = True
    trusted_proxies: int = 0
    audit_anchor_dir: str = ""
    audit_signing_key: str = ""
    audit_verify_key: str = ""
    patrol_idle_end_s: int = 2 * 3600
    media_s3_bucket: str = ""
    media_s3_endpoint: str = ""
    media_s3_region: str = ""
    media_s3_prefix: str = ""
    evidence_max_bytes: int = 30 * 1024 * 1024
    evidence_max_pixels: int = 120_000_000  # 108 MP phone cameras exist; a decompression bomb is far above
    evidence_position_gap_m: float = 200.0  # EXIF GPS farther than this from the phone's fix is flagged
    evidence_time_gap_s: float = 600.0  # EXIF time farther than this from the phone's shutter time is flagged
    watermark_font: str = ""  # a CJK font file ("path.ttc#index"); default: Noto Sans CJK SC from fonts-noto-cjk
    upload_dir: str = ""  # unfinished resumable uploads; shared by every app server behind one proxy
    upload_expiry_s: int = 24 * 3600  # an upload untouched this long is removed (tus expiration)
    original_upload: str = "wifi"  # the PWA's default for sending originals: always | wifi | never
    case_after_photo_gap_m: float = 50.0  # an "after" photo farther than this from the case's spot is flagged
    inspection_checkin_max_m: float = 200.0  # a check-in farther than this from the business is flagged
    tsa_url: str = ""  # an RFC 3161 timestamp authority: each day's evidence root is timestamped there
    tsa_ca_cert: str = ""  # PEM file of the TSA's root certificate(s), to check those timestamps
    tsa_timeout_s: float = 10.0
    notify_channel: str = ""  # wecom | dingtalk | sms: a work-notice channel besides Web Push and the inbox
    notify_webhook_url: str = ""  # the robot's webhook (WeCom, DingTalk) or the SMS gateway's endpoint
    notify_webhook_secret: str = ""  # DingTalk's signing secret, or the SMS gateway's bearer token
    public_url: str = ""  # where people open the app (links in work notices), e.g. https://gridpatrol.example.cn
    vapid_private_key: str = ""  # Web Push signing key (PEM), made on first use
    vapid_subject: str = "mailto:admin@localhost"  # push services contact the operator here
    # The push services the server will POST to (a subscription names its own URL: anything else would let a user
    # make the server call an internal address). "*.x" matches subdomains. A host listed here may also be http.
    push_service_hosts: str = ("fcm.googleapis.com,updates.push.services.mozilla.com,*.push.apple.com,"
                               "*.notify.windows.com")
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if environ is None else environ)
        var_dir = Path(env.get("GRIDPATROL_VAR_DIR", REPO_ROOT / "var"))
        production = env.get("GRIDPATROL_ENV", "development") == "production"
        s = cls(
            env="production" if production else "development",
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'gridpatrol.db'}",
            secret_key=env.get("SECRET_KEY", ""),
            media_dir=env.get("MEDIA_DIR") or str(var_dir / "media"),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            access_token_ttl_s=int(env.get("ACCESS_TOKEN_TTL_S", 15 * 60)),
            refresh_token_ttl_s=int(env.get("REFRESH_TOKEN_TTL_S", 12 * 3600)),
            max_content_length=int(env.get("MAX_CONTENT_LENGTH", 32 * 1024 * 1024)),
            pwa_dist=env.get("PWA_DIST") or str(REPO_ROOT / "pwa" / "dist"),
            basemap_url=env.get("BASEMAP_URL", ""),
            basemap_attribution=env.get("BASEMAP_ATTRIBUTION", ""),
            basemap_subdomains=env.get("BASEMAP_SUBDOMAINS", "abc"),
            basemap_crs=env.get("BASEMAP_CRS", "wgs84"),
            tianditu_key=env.get("TIANDITU_KEY", ""),
            demo=not production,
            trusted_proxies=int(env.get("TRUSTED_PROXIES", 0)),
            # Outside the database, on purpose: whoever can rewrite the database must not reach these.
            audit_anchor_dir=env.get("AUDIT_ANCHOR_DIR") or str(var_dir / "audit-anchors"),
            audit_signing_key=env.get("AUDIT_SIGNING_KEY") or str(var_dir / "audit-signing-key.pem"),
            audit_verify_key=env.get("AUDIT_VERIFY_KEY", ""),
            patrol_idle_end_s=int(env.get("PATROL_IDLE_END_S", 2 * 3600)),
            media_s3_bucket=env.get("MEDIA_S3_BUCKET", ""),
            media_s3_endpoint=env.get("MEDIA_S3_ENDPOINT", ""),
            media_s3_region=env.get("MEDIA_S3_REGION", ""),
            media_s3_prefix=env.get("MEDIA_S3_PREFIX", ""),
            evidence_max_bytes=int(env.get("EVIDENCE_MAX_BYTES", 30 * 1024 * 1024)),
            evidence_max_pixels=int(env.get("EVIDENCE_MAX_PIXELS", 120_000_000)),
            evidence_position_gap_m=float(env.get("EVIDENCE_POSITION_GAP_M", 200.0)),
            evidence_time_gap_s=float(env.get("EVIDENCE_TIME_GAP_S", 600.0)),
            upload_dir=env.get("UPLOAD_DIR") or str(var_dir / "uploads"),
            watermark_font=env.get("WATERMARK_FONT", ""),
            upload_expiry_s=int(env.get("UPLOAD_EXPIRY_S", 24 * 3600)),
            original_upload=env.get("ORIGINAL_UPLOAD", "wifi"),
            case_after_photo_gap_m=float(env.get("CASE_AFTER_PHOTO_GAP_M", 50.0)),
            inspection_checkin_max_m=float(env.get("INSPECTION_CHECKIN_MAX_M", 200.0)),
            tsa_url=env.get("TSA_URL", ""),
            tsa_ca_cert=env.get("TSA_CA_CERT", ""),
            tsa_timeout_s=float(env.get("TSA_TIMEOUT_S", 10.0)),
            notify_channel=env.get("NOTIFY_CHANNEL", ""),
            notify_webhook_url=env.get("NOTIFY_WEBHOOK_URL", ""),
            notify_webhook_secret=env.get("NOTIFY_WEBHOOK_SECRET", ""),
            public_url=env.get("PUBLIC_URL", "").rstrip("/"),
            vapid_private_key=env.get("VAPID_PRIVATE_KEY") or str(var_dir / "vapid-private-key.pem"),
            vapid_subject=env.get("VAPID_SUBJECT", "mailto:admin@localhost"),
            push_service_hosts=env.get("PUSH_SERVICE_HOSTS", cls.push_service_hosts),
        )
        for key, value in overrides.items():
            setattr(s, key, value)
        if not s.secret_key:
            if s.is_production:
                raise ConfigError("SECRET_KEY must be set when GRIDPATROL_ENV=production")
            s.secret_key = _dev_secret_key(var_dir)
        if s.is_production and len(s.secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        if s.original_upload not in ("always", "wifi", "never"):
            raise ConfigError("ORIGINAL_UPLOAD must be always, wifi or never")
        if s.evidence_max_bytes > s.max_content_length:
            raise ConfigError("EVIDENCE_MAX_BYTES must not exceed MAX_CONTENT_LENGTH")
        if s.notify_channel not in ("", "wecom", "dingtalk", "sms"):
            raise ConfigError("NOTIFY_CHANNEL must be wecom, dingtalk or sms (or empty)")
        if s.notify_channel and not s.notify_webhook_url:
            raise ConfigError("NOTIFY_WEBHOOK_URL must be set when NOTIFY_CHANNEL is")
        if s.basemap_crs not in ("wgs84", "gcj02"):
            raise ConfigError("BASEMAP_CRS must be wgs84 or gcj02")
        return s
