from __future__ import annotations

import time
import tracemalloc
from io import BytesIO

import pillow_heif
import pytest
from PIL import Image, PngImagePlugin

from tests.uploads.sanitize import corpus
from uploads.sanitize import Rejected, Sanitized, sanitize

METADATA_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Author", "Comment", "Title"}


def _image(data: bytes) -> Sanitized:
    result = sanitize(data)
    assert isinstance(result, Sanitized)
    return result


def _assert_no_metadata(data: bytes) -> None:
    img = Image.open(BytesIO(data))
    assert not img.getexif()
    assert not METADATA_KEYS & set(img.info)
    for marker in (b"Exif", b"http://ns.adobe.com", b"adobe:ns:meta", b"ICC_PROFILE", b"Jane", b"PhoneMaker"):
        assert marker not in data


def test_it_strips_all_metadata_from_a_phone_photo() -> None:
    original = corpus.phone_jpeg()
    photo = Image.open(BytesIO(original))  # the input really carries what must go
    assert photo.getexif().get_ifd(0x8825) and photo.info["comment"] == b"Jane Patient"
    assert b"adobe:ns:meta" in original and b"ICC_PROFILE" in original
    result = _image(original)
    assert (result.kind, result.mime) == ("image", "image/jpeg")
    _assert_no_metadata(result.data)
    _assert_no_metadata(result.thumbnail or b"")


def test_it_applies_the_exif_orientation() -> None:
    result = _image(corpus.phone_jpeg())
    img = Image.open(BytesIO(result.data)).convert("RGB")
    assert img.size == (480, 640)
    assert (result.info["width"], result.info["height"]) == (480, 640)
    red, green, blue = img.getpixel((img.width - 20, 20))  # the red corner, now at the top right
    assert red > 200 and green < 60 and blue < 60


def test_it_keeps_png_as_png_without_text_chunks() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Patient")
    info.add_text("Comment", "Jane Patient, DOB 1970-01-01", zip=True)
    info.add_itxt("Title", "Jane Patient")
    exif = Image.Exif()
    exif[0x8825] = corpus.GPS
    original = corpus.encode(corpus.page((700, 700)), "PNG", pnginfo=info, exif=exif.tobytes())
    assert b"tEXt" in original and b"zTXt" in original and b"iTXt" in original and b"eXIf" in original
    result = _image(original)
    assert result.mime == "image/png"
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"):
        assert chunk not in result.data
    _assert_no_metadata(result.data)


def test_it_accepts_heic_as_jpeg_without_metadata() -> None:
    img = corpus.page((640, 480))
    exif = Image.Exif()
    exif[0x8825] = corpus.GPS
    exif[0x010F] = "PhoneMaker"
    img.info.update(exif=exif.tobytes(), xmp=corpus.XMP)
    buf = BytesIO()
    try:
        pillow_heif.from_pillow(img).save(buf, format="HEIF")
    except Exception as e:  # pragma: no cover - depends on the wheel's encoders
        pytest.skip(f"no HEIF encoder in this pillow-heif build: {e}")
    assert b"PhoneMaker" in buf.getvalue() and b"adobe:ns:meta" in buf.getvalue()
    result = _image(buf.getvalue())
    assert (result.mime, result.info["source_type"]) == ("image/jpeg", "heif")
    assert Image.open(BytesIO(result.data)).format == "JPEG"
    _assert_no_metadata(result.data)


def test_it_neutralises_a_jpeg_html_polyglot() -> None:
    data = corpus.encode(corpus.page((640, 480)), "JPEG") + b"<html><script>alert(1)</script></html>"
    result = _image(data)
    assert b"<script" not in result.data and b"<html" not in result.data


def test_it_rejects_a_pixel_bomb_from_the_header_alone() -> None:
    bomb = corpus.bomb_png()
    assert len(bomb) < 1_000_000  # 900 megapixels in a small file
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(Rejected) as e:
        sanitize(bomb)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert e.value.code == "image_too_large"
    assert elapsed < 1.0
    assert peak < 50_000_000


def test_it_honours_a_lower_pixel_limit() -> None:
    with pytest.raises(Rejected, match="image_too_large"):
        sanitize(corpus.encode(corpus.page((800, 600)), "JPEG"), max_pixels=800 * 600 - 1)


def test_it_rejects_a_truncated_jpeg() -> None:
    data = corpus.encode(corpus.page((800, 600)), "JPEG")
    with pytest.raises(Rejected) as e:
        sanitize(data[: len(data) // 2])
    assert e.value.code == "image_corrupt"


def test_it_flags_a_png_cut_off_after_its_pixels() -> None:
    # Pillow decodes a PNG whose end (IEND) is missing without complaint: keep it, but say so.
    data = corpus.encode(corpus.page((800, 600)), "PNG")
    assert data.endswith(b"IEND\xaeB`\x82")
    assert "damaged" not in _image(data).hints
    assert "damaged" in _image(data[:-12]).hints
    assert "damaged" in _image(data[:-5]).hints


def test_it_makes_a_small_jpeg_thumbnail() -> None:
    result = _image(corpus.encode(corpus.page((1600, 1200)), "PNG"))
    thumb = Image.open(BytesIO(result.thumbnail or b""))
    assert thumb.format == "JPEG"
    assert max(thumb.size) == 320


def test_it_flags_a_blurry_photo_but_not_a_sharp_one() -> None:
    sharp = _image(corpus.encode(corpus.page((800, 600)), "JPEG", quality=95))
    blurry = _image(corpus.encode(corpus.page((800, 600), blur=4), "JPEG", quality=95))
    assert "blurry" not in sharp.hints
    assert "blurry" in blurry.hints


def test_it_flags_a_small_image() -> None:
    assert "small_image" in _image(corpus.encode(corpus.page((500, 400)), "JPEG")).hints
    assert "small_image" not in _image(corpus.encode(corpus.page((800, 600)), "JPEG")).hints


def test_it_flattens_transparency_onto_white_for_jpeg() -> None:
    buf = BytesIO()
    Image.new("RGBA", (700, 700), (0, 0, 0, 0)).save(buf, "PNG")
    result = _image(buf.getvalue())  # PNG stays PNG, alpha kept
    assert Image.open(BytesIO(result.data)).mode == "RGBA"
    assert Image.open(BytesIO(result.thumbnail or b"")).convert("RGB").getpixel((5, 5)) == (255, 255, 255)


def test_it_rejects_a_truncated_jpeg_even_after_weasyprint_was_imported() -> None:
    import weasyprint  # noqa: F401 - its import turns on Pillow's LOAD_TRUNCATED_IMAGES process-wide

    data = corpus.encode(corpus.page((800, 600)), "JPEG")
    with pytest.raises(Rejected) as e:
        sanitize(data[: len(data) // 2])
    assert e.value.code == "image_corrupt"
