"""Image thumbnails, made within a memory budget on a pool of their own.

A PNG, GIF or WebP is decoded whole (up to 4 bytes a pixel); a JPEG is decoded
at 1/2 to 1/8 of its size per side.  An image that would decode to more than
``max_pixels`` pixels is stored without a thumbnail, so one thumbnail takes
about 4 bytes × ``max_pixels`` at most, and no step makes a second full-size
copy.  At most ``WORKERS`` images are decoded at a time, on threads that
logins and other CPU work do not share, and the memory a decode freed is
handed back to the system afterwards (glibc would otherwise keep it).
"""
import asyncio
import ctypes
import io
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

THUMBNAIL_PX = 320
AVATAR_PX = 256
WORKERS = 2
BAND_PIXELS = 1_000_000  # about how many pixels of the full image one band holds (4 MB, copied twice)
INLINE_IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
ORIENTATION = 0x0112  # the EXIF tag, and how to turn the image upright for each of its values
TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
         5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
         8: Image.Transpose.ROTATE_90}

_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="thumbnail")


def _malloc_trim():
    """glibc's ``malloc_trim``, or None on a C library without it (musl, macOS)."""
    try:
        return ctypes.CDLL(None).malloc_trim  # the symbols already loaded into the process, libc's among them
    except (OSError, AttributeError):
        return None


_trim = _malloc_trim()


async def inspect_image(source, max_pixels):
    """``(content_type, thumbnail bytes)`` for an image (see :func:`read_image`), made on the thumbnail pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _read_and_trim, read_image, source, max_pixels)


async def inspect_avatar(source, max_pixels):
    """``(content_type, avatar bytes)`` for an image (see :func:`read_avatar`), made on the thumbnail pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _read_and_trim, read_avatar, source, max_pixels)


def _read_and_trim(read, source, max_pixels):
    try:
        return read(source, max_pixels)
    finally:
        if _trim is not None:
            _trim(0)


def read_image(source, max_pixels):
    """``(content_type, thumbnail bytes)`` when ``source`` is a PNG/JPEG/GIF/WebP image, else ``(None, None)``;
    ``(content_type, None)`` for an image that would decode to more than ``max_pixels`` pixels.

    The thumbnail fits in THUMBNAIL_PX, has EXIF orientation applied and carries
    no metadata (a fresh image is encoded).
    """
    return _remade(source, max_pixels, THUMBNAIL_PX, _thumbnail)


def read_avatar(source, max_pixels):
    """Like :func:`read_image`, but what is made is an avatar: the largest square in the middle of the
    picture, upright, AVATAR_PX a side, encoded afresh (no byte or metadata of the upload kept)."""
    return _remade(source, max_pixels, AVATAR_PX, _avatar)


def _remade(source, max_pixels, side, make):
    """``make(image)`` (a picture of about ``side`` pixels) turned upright and encoded; see :func:`read_image`.
    Turned once small: no full-size copy (a centred square turns into itself, so the order is the same)."""
    try:
        with Image.open(source) as image:
            kind = INLINE_IMAGE_TYPES.get(image.format)
            if kind is None:
                return None, None
            image.draft("RGB", (side * 2, side * 2))  # JPEG: decode at a smaller scale
            if image.width * image.height > max_pixels:
                return kind, None
            orientation = image.getexif().get(ORIENTATION, 1)
            small = make(image)
            if orientation in TURNS:
                small = small.transpose(TURNS[orientation])
            return kind, _encode(small)
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None, None


def _thumbnail(image):
    small = _reduced(image)
    small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    return small


def _avatar(image):
    side = min(image.width, image.height)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    box = (left, top, left + side, top + side)
    if image.mode not in ("RGB", "RGBA"):  # palette and grey: resampled in colour, transparency kept
        image, box = image.crop(box).convert("RGBA"), None  # at most 4 bytes a pixel, as a PNG decode
    return image.resize((AVATAR_PX, AVATAR_PX), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _reduced(image):
    """``image`` shrunk by a whole factor, its longer side still at least twice the thumbnail's.

    Pillow's own reduction of an image with alpha first converts the whole image
    (a second full-size bitmap); here it goes one band of rows at a time.
    """
    factor = max(image.width, image.height) // (THUMBNAIL_PX * 2)
    if factor < 2 or image.mode not in ("RGBA", "LA"):
        return image  # thumbnail() reduces other modes without a full-size copy
    image.load()
    width, height = -(-image.width // factor), -(-image.height // factor)
    reduced = Image.new(image.mode, (width, height))
    band = max(1, BAND_PIXELS // image.width // factor) * factor  # whole rows of the reduced image
    for top in range(0, image.height, band):
        rows = image.crop((0, top, image.width, min(top + band, image.height)))
        reduced.paste(rows.reduce(factor), (0, top // factor))
    return reduced


def _encode(image):
    has_alpha = image.mode in ("RGBA", "LA", "P")
    clean = Image.new("RGBA" if has_alpha else "RGB", image.size)
    clean.paste(image.convert(clean.mode))
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "JPEG", quality=80)
    return out.getvalue()
