"""wa.me links and QR codes for sources."""

from __future__ import annotations

import io
from urllib.parse import quote

import qrcode
import qrcode.image.svg

from patas.core.crypto import normalise_phone


def wa_link(display_phone: str, text: str) -> str:
    return f"https://wa.me/{normalise_phone(display_phone)}?text={quote(text)}"


def qr_png(data: str) -> bytes:
    image = qrcode.make(data, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_svg(data: str) -> bytes:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
