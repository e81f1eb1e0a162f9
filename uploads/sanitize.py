"""Content disarm for uploads: decide the type from the bytes, keep only a rebuilt copy.

Pure functions on bytes held in memory: the plaintext of a patient's file never touches disk.
Malware scanning is separate (uploads/clamd.py); the caller scans the raw bytes first and turns
a hit into `Rejected("malware")`.
"""

from __future__ import annotations

import contextlib
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import numpy as np
import pikepdf
import pillow_heif
import pydicom
from PIL import Image, ImageCms, ImageFile, ImageOps
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut, pixel_array
from pydicom.uid import UID

from uploads.filetypes import (
    OFFICE_MEMBERS,
    OPENDOCUMENT_TYPES,
    PDF_HEADER_WINDOW,
    detect_type,
    pdf_offset,
    refused_kind,
)

pillow_heif.register_heif_opener()

DEFAULT_MAX_PIXELS = 50_000_000
# Second line of defence for every Pillow decode in the process, including the JPEG frames
# pydicom hands to Pillow, which our own header check never sees.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

SRGB = ImageCms.createProfile("sRGB")
THUMB_PX = 320
SMALL_SIDE_PX = 600
BLUR_SIDE_PX = 512
# Variance of the 3x3 Laplacian of the <=512 px grayscale preview. The synthetic 800x600 test
# page scores ~3,400 sharp and ~370 / ~27 / ~3 after a Gaussian blur of radius 1 / 2 / 4; a
# smooth but sharp photo (a skin close-up) can score ~100. 60 flags clear blur without those.
BLUR_THRESHOLD = 60.0

ZIP_MAX_MEMBERS = 2000
ZIP_MAX_MEMBER = 200 * 1024 * 1024
ZIP_MAX_TOTAL = 1024 * 1024 * 1024
ZIP_MAX_RATIO = 100
# A small file that compresses 1000:1 (a padded README) is harmless; the ratio matters only
# where the expanded size could.
ZIP_RATIO_FLOOR = 1024 * 1024
# A header can claim any frame count; beyond this no real object exists and a viewer would choke.
DICOM_MAX_TOTAL_FACTOR = 40

_MEDIA_DIRECTORY_SOP_CLASS = "1.2.840.10008.1.3.10"  # DICOMDIR: paths on the CD, which we don't keep
# Actions kept: moving within the document, opening a web link, next/previous page. Everything
# else goes (JavaScript, Launch, SubmitForm, ImportData, GoToR, GoToE, RichMediaExecute, and
# Rendition, which can carry JavaScript too): an allowlist, so unknown types go as well.
_PDF_SAFE_ACTIONS = {"/GoTo", "/URI", "/Named"}
# Annotations that carry files, media or scripts rather than marks on the page, and form fields
# (whatever they show is flattened into the page before they go).
_PDF_BAD_ANNOTS = {"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D", "/Widget"}
PDF_FORBIDDEN_NAMES = {"/JS", "/JavaScript", "/Launch", "/OpenAction", "/AA", "/EmbeddedFile", "/XFA"}


class Rejected(Exception):
    """The upload is not kept. `code` is stable (the UI maps it to a message); `detail` is for logs
    and never holds file content."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class Archive(list["Sanitized"]):
    """The DICOM copies of a ZIP, with what the patient should know about what was left out."""

    def __init__(self, items: Iterable[Sanitized] = (), *, skipped: int = 0, dicomdir: bool = False) -> None:
        super().__init__(items)
        self.skipped, self.dicomdir = skipped, dicomdir

    @property
    def hints(self) -> list[str]:
        return (["dicomdir_skipped"] if self.dicomdir else []) + (["files_skipped"] if self.skipped else [])

    @property
    def info(self) -> dict[str, int]:
        return {"files": len(self), "skipped": self.skipped}


@dataclass
class Sanitized:
    kind: str  # "image" | "pdf" | "dicom"
    mime: str
    data: bytes
    thumbnail: bytes | None = None
    hints: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def sanitize(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Sanitized | Archive:
    """The copy to keep, or the DICOM copies of a zip. Raises Rejected; a file of a type we
    don't accept is rejected with a code that says what it is (uploads.filetypes.refused_kind)."""
    if not data:
        raise Rejected("empty")
    kind = detect_type(data[:PDF_HEADER_WINDOW])
    if kind in ("jpeg", "png", "heif"):
        return _image(data, kind, max_pixels)
    if kind == "pdf":
        return _pdf(data)
    if kind == "dicom":
        item = _dicom(data, max_pixels)
        if item.info.get("sop_class_uid") == _MEDIA_DIRECTORY_SOP_CLASS:
            raise Rejected("dicomdir")  # a CD's index, sent with its folder: it lists paths and names, no image
        return item
    if kind == "zip":
        archive = Archive()
        items = sanitize_zip(data, max_pixels=max_pixels, archive=archive)
        archive.extend(items)
        return archive
    raise Rejected(refused_kind(data[:PDF_HEADER_WINDOW]))


# Images


def _image(data: bytes, kind: str, max_pixels: int) -> Sanitized:
    formats = {"jpeg": ["JPEG"], "png": ["PNG"], "heif": ["HEIF"]}[kind]
    # A process-wide Pillow switch that libraries flip (WeasyPrint sets it on import, and the
    # worker renders PDFs too): a truncated image must be rejected, never half-decoded.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(BytesIO(data), formats=formats)  # lazy: reads the header only
            if img.width * img.height > max_pixels:
                raise Rejected("image_too_large", f"{img.width}x{img.height}")
            img.load()
            clean = _pixels_only(img, png=kind == "png")
            del img  # the decoded original: one full-size copy less while we encode
            out = BytesIO()
            if kind == "png":
                clean.save(out, format="PNG")
            else:
                clean.save(out, format="JPEG", quality=90)
            preview = _preview(clean)
            hints = ["small_image"] if min(clean.size) < SMALL_SIDE_PX else []
            if kind == "png" and not _png_complete(data):
                hints.append("damaged")
            if laplacian_variance(preview) < BLUR_THRESHOLD:
                hints.append("blurry")
            thumbnail = _thumbnail(preview)
    except Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise Rejected("image_too_large", type(e).__name__) from e
    except Exception as e:  # hostile input: whatever the decoder trips on means corrupt
        raise Rejected("image_corrupt", type(e).__name__) from e
    return Sanitized(
        kind="image",
        mime="image/png" if kind == "png" else "image/jpeg",
        data=out.getvalue(),
        thumbnail=thumbnail,
        hints=hints,
        info={"width": clean.width, "height": clean.height, "source_type": kind},
    )


def _png_complete(data: bytes) -> bool:
    """Whether the PNG ends with its IEND chunk. Pillow decodes the pixels of a PNG cut off
    after its image data without complaint; the rest of the file (often more of it) is lost."""
    return data.endswith(b"IEND\xaeB`\x82")


def _pixels_only(img: Image.Image, *, png: bool) -> Image.Image:
    """A new image built from the decoded pixels alone: no EXIF, GPS, XMP, ICC, text or comments.
    Trailing bytes (a JPEG+HTML polyglot) are gone because only pixels are copied."""
    with contextlib.suppress(Exception):  # a broken EXIF block is metadata we drop anyway; keep the photo
        img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "CMYK"):
        # Dropping the profile without converting would shift colours (Display P3 phone photos,
        # CMYK scans), and colour matters clinically (skin, wounds).
        with contextlib.suppress(Exception):  # a broken profile: keep the pixels as they are
            img = ImageCms.profileToProfile(img, BytesIO(icc), SRGB, outputMode="RGB") or img
    keep = {"L", "RGB", "RGBA", "LA", "I;16"} if png else {"L", "RGB"}
    if img.mode not in keep:
        if img.mode.startswith("I") or img.mode == "F":
            img = Image.fromarray(to_8bit(np.asarray(img)))
        elif img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            img = img.convert("RGBA")
            if not png:  # JPEG has no alpha: flatten on white, not on whatever hides under it
                img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img).convert("RGB")
        else:
            img = img.convert("RGB")
    clean = Image.new(img.mode, img.size)  # empty info: nothing but the pixels pasted below
    clean.paste(img)
    return clean


def _preview(img: Image.Image) -> Image.Image:
    """An 8-bit L/RGB copy no larger than the blur-check size, for the hint and the thumbnail."""
    small = img.copy()
    small.thumbnail((BLUR_SIDE_PX, BLUR_SIDE_PX))
    if small.mode == "I;16":
        return Image.fromarray(to_8bit(np.asarray(small)))
    if small.mode in ("RGBA", "LA"):
        return Image.alpha_composite(Image.new("RGBA", small.size, "white"), small.convert("RGBA")).convert("RGB")
    return small


def _thumbnail(img: Image.Image) -> bytes:
    thumb = img.convert("L" if img.mode == "L" else "RGB")
    thumb.thumbnail((THUMB_PX, THUMB_PX))
    out = BytesIO()
    thumb.save(out, format="JPEG", quality=80)
    return out.getvalue()


def laplacian_variance(img: Image.Image) -> float:
    """Focus measure: variance of the 3x3 Laplacian of the grayscale image (low = blurry)."""
    a = np.asarray(img.convert("L"), dtype=np.float64)
    if a.shape[0] < 3 or a.shape[1] < 3:
        return 0.0
    lap = a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:] - 4 * a[1:-1, 1:-1]
    return float(lap.var())


def to_8bit(arr: np.ndarray) -> np.ndarray:
    """Stretch any numeric array to 0..255 uint8 (min to black, max to white)."""
    a = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(a.min()), float(a.max())
    if hi <= lo:
        return np.zeros(a.shape, dtype=np.uint8)
    return ((a - lo) * (255.0 / (hi - lo))).astype(np.uint8)


# PDF


def _pdf(data: bytes) -> Sanitized:
    # Bytes before the header (scanners, mail gateways) are not part of the document; readers skip them.
    data = data[pdf_offset(data[:PDF_HEADER_WINDOW]) or 0 :]
    try:
        pdf = pikepdf.open(BytesIO(data))
    except pikepdf.PasswordError as e:  # it needs a password to open
        raise Rejected("pdf_encrypted") from e
    except Exception as e:
        raise Rejected("pdf_corrupt", type(e).__name__) from e
    with pdf:
        # A PDF that opens without a password may still carry an owner password with restrictions
        # (no copying, no printing). They protect nothing here: the copy we keep is saved without
        # them (encryption=False), so the specialist can read and print it.
        try:
            pages = len(pdf.pages)
            _pdf_disarm(pdf)
            out = BytesIO()
            # Copy streams as they are: decoding them on save would expand any flate bomb inside.
            pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none, encryption=False)
        except Exception as e:
            raise Rejected("pdf_corrupt", type(e).__name__) from e
    if pages == 0:
        raise Rejected("pdf_corrupt", "no pages")
    cleaned = out.getvalue()
    try:
        with pikepdf.open(BytesIO(cleaned)) as check:
            left = pdf_forbidden_names(check)
    except Exception as e:
        raise Rejected("pdf_corrupt", type(e).__name__) from e
    if left:  # something our removal missed: refuse rather than keep it
        raise Rejected("pdf_active_content", ",".join(sorted(left)))
    return Sanitized(kind="pdf", mime="application/pdf", data=cleaned, info={"pages": pages})


def _pdf_disarm(pdf: pikepdf.Pdf) -> None:
    root = pdf.Root
    if "/AcroForm" in root:
        # Bake filled-in values into the page first, so they stay visible once the form is gone.
        with contextlib.suppress(Exception):
            pdf.generate_appearance_streams()
            pdf.flatten_annotations(mode="screen")
    for key in ("/OpenAction", "/AA", "/AcroForm"):  # AcroForm holds the forms and their XFA
        if key in root:
            del root[key]
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            page.obj.Annots = pikepdf.Array(
                a
                for a in annots
                if not (isinstance(a, pikepdf.Dictionary) and _pdf_name(a.get("/Subtype")) in _PDF_BAD_ANNOTS)
            )
    # Actions hide in outlines, link annotations and /Next chains: walk everything.
    for d in _pdf_dicts(pdf):
        # /JavaScript and /EmbeddedFiles are the catalog's name trees; /EF a file spec's files.
        for key in ("/AA", "/OpenAction", "/XFA", "/JS", "/JavaScript", "/EmbeddedFiles", "/EF"):
            if key in d:
                del d[key]
        if _pdf_name(d.get("/S")) in ("/JavaScript", "/Launch"):  # hooked up somewhere unexpected: empty it
            for key in list(d.keys()):
                del d[key]
        for key in ("/A", "/Next"):
            # An action's /Next is the next action, or an array of them (rare: dropped whole); an
            # outline item's /Next is its sibling, which has no /S and stays.
            target = d.get(key)
            is_action = isinstance(target, pikepdf.Dictionary) and (key == "/A" or "/S" in target)
            if isinstance(target, pikepdf.Array) or (
                is_action and _pdf_name(d[key].get("/S")) not in _PDF_SAFE_ACTIONS
            ):
                del d[key]


def _pdf_dicts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every dictionary (stream dictionaries included), indirect or nested directly in another."""
    for node in _pdf_nodes(pdf):
        if isinstance(node, pikepdf.Dictionary):
            yield node


def _pdf_nodes(pdf: pikepdf.Pdf) -> Iterator[Any]:
    """Every object in the file and everything nested directly inside it. A stack, not recursion:
    hostile nesting depth must not hit Python's recursion limit. A dictionary's children are read
    after the caller has seen it, so keys it deletes are not visited."""
    for obj in pdf.objects:
        stack: list[Any] = [obj]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Stream):
                node = node.stream_dict
            yield node
            if isinstance(node, pikepdf.Dictionary):
                # keys() and [], not items(): items() fails on names that aren't UTF-8
                stack.extend(v for v in (node[str(k)] for k in node) if _pdf_direct(v))
            elif isinstance(node, pikepdf.Array):
                stack.extend(v for v in node if _pdf_direct(v))


def _pdf_direct(value: Any) -> bool:
    """A name or a container held inside its parent (indirect ones are in pdf.objects themselves)."""
    if isinstance(value, pikepdf.Name):
        return True
    return isinstance(value, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream) and not value.is_indirect


def pdf_forbidden_names(pdf: pikepdf.Pdf) -> set[str]:
    """Forbidden names used anywhere, as a key or as a value (/S /JavaScript, /Type /EmbeddedFile)."""
    found: set[str] = set()
    for node in _pdf_nodes(pdf):
        if isinstance(node, pikepdf.Dictionary):
            found.update(str(k) for k in node if str(k) in PDF_FORBIDDEN_NAMES)
        elif _pdf_name(node) in PDF_FORBIDDEN_NAMES:
            found.add(_pdf_name(node))
    return found


def _pdf_name(value: Any) -> str:
    """A name as written in the file, or "" for anything else. Names need not be UTF-8, which
    str() assumes, and unparse() also undoes #xx escapes such as /Java#53cript."""
    return value.unparse().decode("latin-1") if isinstance(value, pikepdf.Name) else ""


# DICOM


def _dicom(data: bytes, max_pixels: int) -> Sanitized:
    if data[128:132] != b"DICM":
        raise Rejected("unsupported_type")
    try:
        ds = pydicom.dcmread(BytesIO(data), force=False)
        _dicom_identify(ds)
        info = _dicom_info(ds)
        per_frame = info.get("rows", 0) * info.get("columns", 0) * int(ds.get("SamplesPerPixel") or 1)
        if per_frame > max_pixels or per_frame * info.get("frames", 1) > max_pixels * DICOM_MAX_TOTAL_FACTOR:
            raise Rejected("image_too_large", f"{info.get('rows')}x{info.get('columns')}x{info.get('frames')}")
        cleaned = _dicom_rewrite(ds, data)
        thumbnail = _dicom_thumbnail(ds, info)
    except Rejected:
        raise
    except Exception as e:  # hostile input: any parse failure means corrupt
        raise Rejected("dicom_corrupt", type(e).__name__) from e
    return Sanitized(kind="dicom", mime="application/dicom", data=cleaned, thumbnail=thumbnail, info=info)


def _dicom_identify(ds: pydicom.Dataset) -> None:
    """Every DICOM object names its SOP class and instance; garbage that pydicom reads as an empty
    dataset does not. CD exports often leave them out of the file meta only: copy them there."""
    meta = ds.file_meta
    for meta_keyword, keyword in (
        ("MediaStorageSOPClassUID", "SOPClassUID"),
        ("MediaStorageSOPInstanceUID", "SOPInstanceUID"),
    ):
        if not meta.get(meta_keyword) and ds.get(keyword):
            setattr(meta, meta_keyword, ds[keyword].value)
        if not meta.get(meta_keyword):
            raise ValueError(f"no {keyword}")


def _dicom_rewrite(ds: pydicom.Dataset, data: bytes) -> bytes:
    """The file as pydicom parsed it, with a zeroed preamble (CVE-2019-11687: the preamble can
    make the file a valid PE/ELF too). Patient identifiers and private tags stay: the specialist
    needs the former and the latter can matter clinically."""
    ds.preamble = b"\0" * 128
    out = BytesIO()
    try:
        ds.save_as(out, enforce_file_format=True)
    except Exception:
        # pydicom read it but can't write it back as it is (e.g. implicit-VR elements under an
        # explicit-VR transfer syntax, which viewers open fine): zero the preamble in place.
        return b"\0" * 128 + data[128:]
    return out.getvalue()


def _dicom_info(ds: pydicom.Dataset) -> dict[str, Any]:
    """Technical facts only: no names, dates or identifiers other than the study/series UIDs."""
    info: dict[str, Any] = {"sop_class_uid": str(ds.file_meta.MediaStorageSOPClassUID)}
    for key, keyword, cast in (
        ("modality", "Modality", str),
        ("study_uid", "StudyInstanceUID", str),
        ("series_uid", "SeriesInstanceUID", str),
        ("instance_number", "InstanceNumber", int),
        ("rows", "Rows", int),
        ("columns", "Columns", int),
    ):
        try:
            value = cast(ds[keyword].value)
        except Exception:  # noqa: S112 - missing or odd (multi-valued, empty): a fact we can do without
            continue
        info[key] = value
    if "PixelData" in ds or "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        info["frames"] = int(ds.get("NumberOfFrames") or 1)
    return info


def _dicom_thumbnail(ds: pydicom.Dataset, info: dict[str, Any]) -> bytes | None:
    """JPEG of the middle frame; None when no decoder here handles the compression (JPEG-LS,
    lossless JPEG), since the specialist's viewer will. Uncompressed pixels that don't decode are
    a damaged file."""
    if "frames" not in info:
        return None
    try:
        arr = pixel_array(ds, index=info["frames"] // 2)
    except Exception as e:
        syntax = UID(ds.file_meta.get("TransferSyntaxUID") or "")
        if syntax.is_transfer_syntax and not syntax.is_compressed:
            raise Rejected("dicom_corrupt", "pixel data") from e
        return None
    try:
        photometric = str(ds.get("PhotometricInterpretation", ""))
        if photometric == "PALETTE COLOR":
            arr = apply_color_lut(arr, ds)
        elif photometric.startswith("MONOCHROME"):
            arr = apply_voi_lut(apply_modality_lut(arr, ds), ds)
        pixels = to_8bit(arr)
        if photometric == "MONOCHROME1":  # 0 is white in MONOCHROME1
            pixels = 255 - pixels
        if pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3):
            return _thumbnail(Image.fromarray(pixels))
    except Exception:  # noqa: S110 - odd LUTs or shapes: no thumbnail, the file is still fine
        pass
    return None


# ZIP of DICOM (a CD or USB export)

_DRIVE = re.compile(r"^[A-Za-z]:")


def sanitize_zip(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, archive: Archive | None = None
) -> Iterator[Sanitized]:
    """The DICOM files inside a zip, sanitised one at a time, so a caller can store each copy
    before the next is read. Everything else (DICOMDIR, viewers, autorun.inf) is skipped, and
    counted in `archive` so the patient can be told. A Word, Excel or PowerPoint file (a ZIP
    too) is rejected as what it is."""
    archive = Archive() if archive is None else archive
    try:
        zf = zipfile.ZipFile(BytesIO(data))
    except Exception as e:
        raise Rejected("zip_corrupt", type(e).__name__) from e
    found = 0
    with zf:
        _zip_office_check(zf)
        _zip_check(zf.infolist())
        for member in zf.infolist():
            if member.is_dir():
                continue
            try:
                with zf.open(member) as f:
                    body = f.read(ZIP_MAX_MEMBER + 1)
            except Exception as e:
                raise Rejected("zip_corrupt", type(e).__name__) from e
            if len(body) > ZIP_MAX_MEMBER:  # zipfile stops at the declared size; belt and braces
                raise Rejected("zip_bomb", "member size")
            # DICOMDIR indexes paths on the CD, which we don't keep; it is skipped by name too so
            # that an odd one can't sink the images.
            if _zip_parts(member)[-1].upper() == "DICOMDIR":
                archive.dicomdir = True
                continue
            if detect_type(body[:132]) != "dicom":
                archive.skipped += 1
                continue
            item = _dicom(body, max_pixels)
            if item.info.get("sop_class_uid") == _MEDIA_DIRECTORY_SOP_CLASS:
                archive.dicomdir = True
                continue
            found += 1
            yield item
    if not found:
        raise Rejected("zip_no_dicom")


def _zip_office_check(zf: zipfile.ZipFile) -> None:
    """Reject an Office (OOXML) or OpenDocument file as what it is, from its member names (and an
    OpenDocument's first member, "mimetype", at most 100 bytes), before any member is expanded."""
    names = [m.filename for m in zf.infolist()]
    if "[Content_Types].xml" in names:
        for prefix, code in OFFICE_MEMBERS:
            if any(name.startswith(prefix) for name in names):
                raise Rejected(code)
        raise Rejected("office_document")  # another Office file (Visio, XPS)
    first = zf.infolist()[0] if names else None
    if first is not None and first.filename == "mimetype" and first.file_size <= 100:
        try:
            mimetype = zf.read(first)
        except Exception:  # an unreadable member: the reading below says the ZIP is damaged
            return
        for opendocument_type, code in OPENDOCUMENT_TYPES:
            if mimetype.startswith(opendocument_type):
                raise Rejected(code)


def _zip_parts(member: zipfile.ZipInfo) -> list[str]:
    return member.filename.replace("\\", "/").split("/")


def _zip_check(members: list[zipfile.ZipInfo]) -> None:
    """Refuse the whole archive on its declared names and sizes, before reading any member."""
    if len(members) > ZIP_MAX_MEMBERS:
        raise Rejected("zip_bomb", "member count")
    if sum(m.file_size for m in members) > ZIP_MAX_TOTAL:
        raise Rejected("zip_bomb", "total size")
    for m in members:
        parts = _zip_parts(m)
        is_symlink = (m.external_attr >> 16) & 0o170000 == 0o120000
        if (
            not m.filename
            or m.filename.startswith(("/", "\\"))
            or ".." in parts
            or _DRIVE.match(m.filename)
            or is_symlink
        ):  # an empty name (found by fuzzing) is no path at all
            raise Rejected("zip_unsafe_path")
        if m.flag_bits & 0x1:
            raise Rejected("zip_encrypted")
        if m.file_size > ZIP_MAX_MEMBER:
            raise Rejected("zip_bomb", "member size")
        if m.file_size >= ZIP_RATIO_FLOOR and m.file_size > ZIP_MAX_RATIO * max(m.compress_size, 1):
            raise Rejected("zip_bomb", "compression ratio")
