"""Report photos: content-addressed files under the var folder (never public)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from bot.store import validation as v
from bot.store.errors import InvalidInput


class Photos:
    """Photo files under ``directory`` (``<var_dir>/photos`` when omitted, read on first use)."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self._directory = Path(directory) if directory is not None else None

    @property
    def directory(self) -> Path:
        if self._directory is None:
            from bot.settings import get_settings

            self._directory = get_settings().var_dir / "photos"
        return self._directory

    def save(self, data: bytes, content_type: str) -> str:
        """Write a photo under the var folder; returns its ref (content hash + extension)."""
        ctype = (content_type or "").split(";")[0].strip().lower()
        ext = v.PHOTO_TYPES.get(ctype)
        if ext is None:
            raise InvalidInput(f"photo content type must be one of {', '.join(v.PHOTO_TYPES)}")
        if not data:
            raise InvalidInput("photo is empty")
        if len(data) > v.MAX_PHOTO_BYTES:
            raise InvalidInput(f"photo is larger than {v.MAX_PHOTO_BYTES // (1024 * 1024)} MiB")
        ref = f"{hashlib.sha256(data).hexdigest()}.{ext}"
        path = self.path(ref)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + f".{secrets.token_hex(4)}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return ref

    def path(self, photo_ref: str) -> Path:
        ref = v.check_photo_ref(photo_ref)
        return self.directory / ref[:2] / ref

    def content_type(self, photo_ref: str) -> str:
        ext = v.check_photo_ref(photo_ref).rsplit(".", 1)[1]
        return {e: t for t, e in v.PHOTO_TYPES.items()}[ext]
