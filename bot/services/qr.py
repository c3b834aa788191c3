"""QR codes as PNG bytes, for verification links printed on documents."""

from __future__ import annotations

import io


def qr_png(data: str, box_size: int = 10, border: int = 4) -> bytes:
    """Encode `data` as a black-on-white QR code PNG.

    Error correction level M survives the smudges and folds of a printed page while keeping the
    symbol small. `box_size` is the pixel size of one module; `border` is the quiet zone in
    modules, and scanners need at least 4 of it.
    """
    if not data:
        raise ValueError("a QR code needs some data to encode")
    if box_size < 1 or border < 0:
        raise ValueError(f"box_size must be >= 1 and border >= 0, got {box_size}, {border}")
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    from qrcode.image.pil import PilImage

    code = qrcode.QRCode(
        version=None, error_correction=ERROR_CORRECT_M, box_size=box_size, border=border
    )
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(image_factory=PilImage, fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
