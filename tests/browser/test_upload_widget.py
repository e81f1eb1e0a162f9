"""The upload widget (Uppy, static/vendor/uppy/, built from frontend/) in Chromium: photos, a PDF and
a DICOM CD folder sent file by file, a file over its limit refused before sending and one the server
refuses offered no retry, the file list updated in place,
the phone camera, Spanish, and the plain form with JavaScript off or the widget missing."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from cases.models import ConsentVersion
from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, CaseFactory, PatientFactory, accepted_upload, publish_consent_v1
from uploads.models import Upload, UploadStatus
from uploads.services import open_object

pytestmark = pytest.mark.browser

SEND_BUTTON = re.compile(r"^Send \d+ files?$")


@pytest.fixture(autouse=True)
def consent_version(transactional_db: Any) -> ConsentVersion:
    # The live server's tests flush every table afterwards, so the version the data migration
    # published may be gone: publish it again.
    return publish_consent_v1()


# Test files, made the way a phone, a scanner and an imaging CD would make them.


def _phone_jpeg(path: Path) -> Path:
    from PIL import Image

    image = Image.radial_gradient("L").resize((1200, 900)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° (portrait photo)
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (40.0, 25.0, 1.5), 3: "W", 4: (3.0, 42.0, 12.0)})  # Madrid
    image.save(path, "JPEG", exif=exif, quality=85)
    return path


def _gps(jpeg: bytes) -> dict[int, Any]:
    from PIL import Image

    return dict(Image.open(io.BytesIO(jpeg)).getexif().get_ifd(0x8825))


def _heic(path: Path) -> Path | None:
    try:
        import pillow_heif
        from PIL import Image

        pillow_heif.register_heif_opener()
        Image.radial_gradient("L").resize((800, 600)).convert("RGB").save(path, "HEIF")
    except Exception:  # no HEIF encoder in this build of libheif
        return None
    return path


def _pdf(path: Path, *, padding: int = 0) -> Path:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    buffer = io.BytesIO()
    pdf.save(buffer)
    # A large scan: the same document with a big comment after %%EOF (readers ignore it).
    path.write_bytes(buffer.getvalue() + b"%" + b"x" * padding + b"\n" if padding else buffer.getvalue())
    return path


def _dicom_cd(root: Path) -> Path:
    """A CD's folder: DICOMDIR (no extension) and image files in subfolders, also without one."""
    from pydicom.data import get_testdata_file

    source = Path(get_testdata_file("DICOMDIR")).parent  # pydicom's dicomdirtests
    cd = root / "CD"
    (cd / "98892003" / "MR2").mkdir(parents=True)
    shutil.copy(source / "DICOMDIR", cd / "DICOMDIR")
    for image in sorted((source / "98892003" / "MR2").iterdir())[:3]:
        shutil.copy(image, cd / "98892003" / "MR2" / image.name)
    return cd


# Page helpers.


def _sign_in(page: Page, live_server: Any, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def _watch(page: Page) -> dict[str, list[str]]:
    """Collect CSP violations and console errors, from before the page's own scripts run."""
    seen: dict[str, list[str]] = {"console": []}

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            seen["console"].append(message.text)

    page.on("console", on_console)
    page.add_init_script(
        "window.__csp = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__csp.push("
        "e.effectiveDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber));"
    )
    return seen


def _assert_no_csp_violations(page: Page, seen: dict[str, list[str]]) -> None:
    violations = page.evaluate("window.__csp")
    assert violations == [], f"CSP blocked: {violations}"
    assert not [m for m in seen["console"] if "Content Security Policy" in m or "Refused to" in m], seen["console"]


def _widget(page: Page) -> Locator:
    return page.get_by_test_id("upload-widget")


def _file_input(page: Page) -> Locator:
    """Uppy's hidden <input type=file multiple> (the one for files, not folders)."""
    return _widget(page).locator("input.uppy-Dashboard-input[type=file]:not([webkitdirectory]):not([capture])").first


def _folder_input(page: Page) -> Locator:
    return _widget(page).locator("input.uppy-Dashboard-input[webkitdirectory]").first


def _record_progress(page: Page) -> None:
    page.evaluate(
        "() => { window.__progress = []; const uppy = document.querySelector('[data-testid=upload-widget]').uppy;"
        "uppy.on('upload-progress', (file, p) => window.__progress.push([file.name, p.bytesUploaded, p.bytesTotal])); }"
    )


def _row(page: Page, name: str) -> Locator:
    return page.get_by_test_id("file-list").locator("tbody tr").filter(has_text=name)


def _open_files_page(page: Page, live_server: Any, case: Any) -> None:
    page.goto(f"{live_server.url}/cases/{case.pk}/files/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Files of case {case.reference}")


def test_a_patient_sends_photos_a_pdf_and_a_dicom_folder_with_the_widget(
    page: Page, live_server: Any, tmp_path: Path
) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    seen = _watch(page)
    _sign_in(page, live_server, patient.email)
    _open_files_page(page, live_server, case)

    # The widget replaces the plain form.
    widget = _widget(page)
    expect(widget.locator(".uppy-Dashboard")).to_be_visible()
    expect(page.locator("form[data-upload-form]")).to_be_hidden()
    expect(widget).to_contain_text("Drag files or a folder here, choose files or choose a folder")
    expect(widget).to_contain_text("DICOM up to 200 MB per file")  # the form's hint, as Uppy's note
    assert_accessible(page)

    # A CD's folder first (Uppy's folder input), then single files.
    cd = _dicom_cd(tmp_path)
    _folder_input(page).set_input_files(cd)
    expect(widget.locator(".uppy-Dashboard-Item")).to_have_count(4)
    files = [_phone_jpeg(tmp_path / "IMG_2041.jpg"), _pdf(tmp_path / "biopsy-report.pdf")]
    heic = _heic(tmp_path / "IMG_2042.HEIC")
    if heic:
        files.append(heic)
    widget.get_by_role("button", name="Add more files").click()
    _file_input(page).set_input_files(files)
    total = 4 + len(files)
    expect(widget.locator(".uppy-Dashboard-Item")).to_have_count(total)
    expect(widget.get_by_text(f"{total} files ready to send")).to_be_visible()
    assert_accessible(page)

    _record_progress(page)
    widget.get_by_role("button", name=SEND_BUTTON).click()
    expect(widget.locator(".uppy-StatusBar")).to_contain_text("Sent", timeout=30_000)
    expect(widget.locator(".uppy-Dashboard-Item.is-complete")).to_have_count(total)
    progress = page.evaluate("window.__progress")
    assert {name for name, _, _ in progress} >= {"IMG_2041.jpg", "biopsy-report.pdf", "DICOMDIR"}, progress
    assert all(total_bytes and 0 <= sent <= total_bytes for _, sent, total_bytes in progress), progress

    # The server-rendered list updates in place: every file was checked and accepted. Two of the
    # CD's images are one MR series (4950, 4981): one row, the files behind a <details>.
    images = [p.name for p in (cd / "98892003" / "MR2").iterdir()]
    names = ["DICOMDIR", "IMG_2041.jpg", "biopsy-report.pdf", *images]
    if heic:
        names.append(heic.name)
    series = page.get_by_test_id("file-list").locator("tbody tr[data-series]")
    expect(series.locator("summary").first).to_have_text("MR series: 2 images", timeout=30_000)
    expect(series.locator(".series-members")).to_be_hidden()
    series.locator("summary").first.click()
    for name in ("4950", "4981"):
        expect(series.locator("li").filter(has_text=name).locator(".tag")).to_have_text("Accepted")
    for name in set(names) - {"4950", "4981", "DICOMDIR"}:
        expect(_row(page, name).locator(".tag")).to_have_text("Accepted")
    # The CD's index lists paths and names, not images: not kept, and the patient is told so.
    expect(_row(page, "DICOMDIR")).to_contain_text("You do not need to do anything")
    expect(page.get_by_test_id("file-list").locator("tbody tr")).to_have_count(total - 1)
    uploads = Upload.objects.filter(case=case)
    assert sorted(uploads.values_list("original_name", flat=True)) == sorted(names)
    assert dict(uploads.values_list("original_name", "status"))["DICOMDIR"] == UploadStatus.REJECTED
    assert set(uploads.exclude(original_name="DICOMDIR").values_list("status", flat=True)) == {UploadStatus.ACCEPTED}
    kinds = dict(uploads.values_list("original_name", "kind"))
    assert {kinds[p.name] for p in cd.rglob("*") if p.is_file() and p.name != "DICOMDIR"} == {"dicom"}
    assert kinds["IMG_2041.jpg"] == "image" and kinds["biopsy-report.pdf"] == "pdf"
    if heic:
        assert kinds[heic.name] == "image"
    assert _gps(files[0].read_bytes()), "the test photo should carry a location"
    assert not _gps(b"".join(open_object(uploads.get(original_name="IMG_2041.jpg")))), "the kept copy has GPS"
    expect(page.get_by_role("status").filter(has_text="Your files have been checked")).to_be_attached()
    assert_accessible(page)
    _assert_no_csp_violations(page, seen)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path="/tmp/uppy.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/uppy-phone.png", full_page=True)
    assert_accessible(page)


def test_a_file_over_its_types_limit_is_refused_before_it_is_sent(
    page: Page, live_server: Any, tmp_path: Path, settings: Any
) -> None:
    settings.UPLOAD_LIMITS = {**settings.UPLOAD_LIMITS, "pdf_mb": 1}
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    seen = _watch(page)
    _sign_in(page, live_server, patient.email)
    _open_files_page(page, live_server, case)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.headers.get("x-file-name", "")))

    big = _pdf(tmp_path / "scan.pdf", padding=2 * 1024 * 1024)
    _file_input(page).set_input_files([big, _phone_jpeg(tmp_path / "rash.jpg")])
    widget = _widget(page)

    # Told at once, before anything is sent, with what to do; the file is not in the widget.
    problems = widget.get_by_role("alert").filter(has_text="Some files were not sent")
    expect(problems).to_contain_text("“scan.pdf” is larger than 1 MB, the limit for a PDF.")
    expect(problems).to_contain_text("split it into several PDFs")
    expect(widget.locator(".uppy-Dashboard-Item")).to_have_count(1)
    widget.get_by_role("button", name=SEND_BUTTON).click()
    expect(_row(page, "rash.jpg").locator(".tag")).to_have_text("Accepted", timeout=30_000)
    assert "scan.pdf" not in requests
    assert list(Upload.objects.filter(case=case).values_list("original_name", flat=True)) == ["rash.jpg"]
    assert_accessible(page)
    _assert_no_csp_violations(page, seen)


def test_a_file_the_server_refuses_shows_its_reason_and_offers_no_retry(
    page: Page, live_server: Any, tmp_path: Path, settings: Any
) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    seen = _watch(page)
    _sign_in(page, live_server, patient.email)
    _open_files_page(page, live_server, case)
    # The limit is lowered after the page was shown: the widget's own check lets the photo through.
    settings.UPLOAD_LIMITS = {**settings.UPLOAD_LIMITS, "photo_mb": 1}

    big = tmp_path / "mole.jpg"
    big.write_bytes(_phone_jpeg(tmp_path / "small.jpg").read_bytes() + bytes(2 * 1024 * 1024))
    _file_input(page).set_input_files([big, _pdf(tmp_path / "biopsy.pdf")])
    widget = _widget(page)
    widget.get_by_role("button", name=SEND_BUTTON).click()

    reason = "“mole.jpg” is larger than 1 MB, the limit for this kind of file."
    problems = widget.get_by_role("alert").filter(has_text="Some files were not sent")
    expect(problems).to_contain_text(reason, timeout=30_000)
    expect(_row(page, "biopsy.pdf").locator(".tag")).to_have_text("Accepted", timeout=30_000)
    # Sending it again would be refused again: no retry, for the file or for all.
    expect(widget.get_by_role("button", name="Retry upload")).to_have_count(0)
    expect(widget.get_by_role("button", name=re.compile(r"^Retry"))).to_have_count(0)
    expect(widget.locator(".uppy-Dashboard-Item").filter(has_text="mole.jpg")).to_have_count(0)
    assert list(Upload.objects.filter(case=case).values_list("original_name", flat=True)) == ["biopsy.pdf"]
    assert_accessible(page)
    _assert_no_csp_violations(page, seen)


def test_while_files_are_checked_the_list_updates_in_place(page: Page, live_server: Any) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    upload = accepted_upload(case, name="wound.jpg")
    Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.SCANNING)
    seen = _watch(page)
    _sign_in(page, live_server, patient.email)
    _open_files_page(page, live_server, case)
    expect(_row(page, "wound.jpg").locator(".tag")).to_have_text("Checking")
    expect(page.get_by_text("We are checking your files.")).to_be_visible()

    # Without JavaScript the page reloads itself every 5 s; with the widget it must not, or it
    # would cut off uploads. It asks for the status every 2 s instead.
    page.evaluate("window.stayed = true")
    page.wait_for_timeout(6_500)
    assert page.evaluate("window.stayed === true"), "the page reloaded"
    Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.ACCEPTED)
    expect(_row(page, "wound.jpg").locator(".tag")).to_have_text("Accepted")
    expect(page.get_by_text("We are checking your files.")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Your files have been checked")).to_be_attached()
    assert page.evaluate("window.stayed === true"), "the page reloaded"
    assert_accessible(page)
    _assert_no_csp_violations(page, seen)


def test_on_a_phone_the_widget_offers_the_camera(browser: Browser, live_server: Any, tmp_path: Path) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-GB"
    )
    page = context.new_page()
    seen = _watch(page)
    _sign_in(page, live_server, patient.email)
    _open_files_page(page, live_server, case)

    widget = _widget(page)
    camera = widget.get_by_role("tab", name="Take a photo")
    expect(camera).to_be_visible()
    assert_accessible(page)
    photo = widget.locator("input[type=file][capture=environment]")
    expect(photo).to_have_attribute("accept", "image/*")
    with page.expect_file_chooser() as chooser:
        camera.click()
    chooser.value.set_files(_phone_jpeg(tmp_path / "image.jpg"))
    widget.get_by_role("button", name="Send 1 file").click()
    expect(_row(page, "image.jpg").locator(".tag")).to_have_text("Accepted", timeout=30_000)
    assert_accessible(page)
    _assert_no_csp_violations(page, seen)
    context.close()


def test_the_widget_speaks_spanish(page: Page, live_server: Any, tmp_path: Path) -> None:
    patient = PatientFactory(language="es")
    case = CaseFactory(patient=patient)
    _sign_in(page, live_server, patient.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/files/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    widget = _widget(page)
    expect(widget).to_contain_text("Arrastre aquí archivos o una carpeta, elija archivos o elija una carpeta")
    assert_accessible(page)
    _file_input(page).set_input_files(_pdf(tmp_path / "informe.pdf"))
    expect(widget.get_by_text("1 archivo listo para enviar")).to_be_visible()
    widget.get_by_role("button", name="Enviar 1 archivo").click()
    expect(widget.locator(".uppy-StatusBar")).to_contain_text("Enviado", timeout=30_000)
    expect(_row(page, "informe.pdf").locator(".tag")).to_have_text("Aceptado")
    assert_accessible(page)


def test_without_javascript_the_plain_form_uploads(browser: Browser, live_server: Any, tmp_path: Path) -> None:
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    _sign_in(page, live_server, patient.email)
    _open_files_page(page, live_server, case)

    expect(page.locator(".uppy-Dashboard")).to_have_count(0)
    expect(page.get_by_text("No files yet.")).to_be_visible()
    page.get_by_label("Choose files").set_input_files(
        [_phone_jpeg(tmp_path / "mole.jpg"), _pdf(tmp_path / "letter.pdf")]
    )
    page.get_by_role("button", name="Upload files").click()

    expect(page.get_by_role("status").filter(has_text=re.compile(r"2 files? (\(s\) )?received"))).to_be_visible()
    expect(_row(page, "mole.jpg").locator(".tag")).to_have_text("Accepted")
    expect(_row(page, "letter.pdf").locator(".tag")).to_have_text("Accepted")
    context.close()


def test_if_the_widget_cannot_load_the_plain_form_is_there(page: Page, live_server: Any) -> None:
    # axe needs JavaScript, so the plain form's accessibility is checked here: with the bundle blocked.
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    page.route("**/upload.bundle.js", lambda route: route.abort())
    _sign_in(page, live_server, patient.email)
    _open_files_page(page, live_server, case)
    expect(page.get_by_label("Choose files")).to_be_visible()
    expect(page.get_by_role("button", name="Upload files")).to_be_visible()
    expect(page.locator(".uppy-Dashboard")).to_have_count(0)
    assert_accessible(page)


def test_continue_sends_the_files_the_patient_chose_but_did_not_send(
    page: Page, live_server: Any, tmp_path: Path
) -> None:
    """Seen before: pressing the page's Continue instead of the widget's Send dropped the files."""
    patient = PatientFactory()
    case = CaseFactory(patient=patient)
    _sign_in(page, live_server, patient.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/intake/files/")
    widget = _widget(page)
    expect(widget.locator(".uppy-Dashboard")).to_be_visible()
    _file_input(page).set_input_files(_phone_jpeg(tmp_path / "mole.jpg"))
    expect(widget.locator(".uppy-Dashboard-Item")).to_have_count(1)
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent", timeout=30_000)
    assert Upload.objects.filter(case=case, original_name="mole.jpg").exists()
