"""Media: where image bytes are stored, and the signed URLs they are served through."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.blobs import FileBlobStore, S3BlobStore
from api.media import MediaUrls
from api.settings import Settings
from api.wiring.platform import Wiring
from domain.media import BlobStore


@dataclass
class MediaParts:
    blobs: BlobStore
    media_urls: MediaUrls


def blob_store(settings: Settings) -> BlobStore:
    """An S3 bucket when VELORA_S3_BUCKET names one, else files under the data directory."""
    if settings.s3_bucket:
        secret = settings.s3_secret_access_key
        return S3BlobStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
        )
    return FileBlobStore(settings.data_dir / "media")


def wire_media(wiring: Wiring) -> MediaParts:
    settings = wiring.settings
    return MediaParts(
        blobs=blob_store(settings),
        media_urls=MediaUrls(wiring.tokens.secret_for("media-urls"), settings.media_url_ttl_s),
    )
