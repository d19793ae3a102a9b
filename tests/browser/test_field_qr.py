"""The field app's certificate check in Chromium (issue 18 §4).

First the phone's reading of a payload (static/field/qr.js, loaded with ``import()`` on a page
of the live server) against the Python that issues and verifies certificates: a certificate
issued through the services verifies offline, one changed character does not, a key the
phone did not cache is an unknown node, past its date it is expired, SM2 is left to the
server; and on random names and random fields, the phone and payload.decode_any read the
same text the same way.

Then the check section of the field app at 375 px: a real printed QR (printing.qr_png of the
QR's link) read from a photo through the file input and from Chromium's fake camera,
offline, a QR from an unknown node, and the verification waiting in the queue.
"""

from __future__ import annotations

import datetime
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect

from liudong.certificates import payload as payloads
from liudong.field.verify_strings import VERIFY_STRINGS
from tests.browser.pages import chinese, shot, shots

pytestmark = pytest.mark.usefixtures("node_keys")

TODAY = datetime.date(2026, 12, 8)

# The module under test, imported in the page; `globalThis.qr` for the evaluations below.
IMPORT_QR = """async () => {
  globalThis.qr = await import("/static/field/qr.js");
  await globalThis.qr.ready();
}"""

VERIFY = """([texts, keys, today]) => texts.map((text) => qr.verifyOffline(text, keys, today))"""


@pytest.fixture
def qr_page(page, live_server):
    """A page of the live server with qr.js imported (the public check page: no sign-in)."""
    page.goto("/verify/")
    page.evaluate(IMPORT_QR)
    return page


def verify(page, texts: list, keys: list, today: datetime.date = TODAY) -> list[dict]:
    return page.evaluate(VERIFY, [texts, keys, today.isoformat()])


def bundle_keys() -> list[dict]:
    """The node's certificate keys as the field bundle gives them to the phone."""
    from liudong.certificates.models import SigningKey

    return [
        {"key_id": row.key_id, "algorithm": row.algorithm, "public_key": row.public_key}
        for row in SigningKey.objects.all()
    ]


def issue_certificate(name: str = "王丽芳", born: datetime.date = datetime.date(1996, 4, 12)):
    from liudong.actors import OPERATOR
    from liudong.certificates import issuing
    from liudong.people.idnumbers import make
    from liudong.people.models import Person

    person = Person.objects.create(
        id_number=make("330106", born, 8, "2"),
        name=name,
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region_id="330106002001",
    )
    return issuing.issue(person, acting_user=OPERATOR, today=TODAY)


def changed(text: str, at: int) -> str:
    """The text with the character at ``at`` replaced by another of the base32 alphabet."""
    return text[:at] + ("B" if text[at] != "B" else "C") + text[at + 1 :]


def test_a_certificate_issued_by_the_services_verifies_offline(qr_page, zhejiang):
    from liudong.certificates import verification

    certificate = issue_certificate()
    keys = bundle_keys()
    contents = payloads.decode(certificate.payload)[0].as_dict()
    link = payloads.link(certificate.payload)
    assert link.startswith("http") and "/verify/#LD1." in link
    body, signature = certificate.payload.split(".")[1:]
    as_ld2 = f"LD2.ED25519.{body}.{signature}"
    assert verification.verify_payload(as_ld2, today=TODAY).ok

    results = verify(qr_page, [certificate.payload, link, "  " + link + "\n", as_ld2], keys)
    for result in results:
        assert result["status"] == "valid"
        assert result["fields"] == contents  # the same reading as Python's, field by field
    assert results[0]["fields"]["name"] == "王丽芳"

    # One character changed in the body or the signature: never valid. In the body the
    # signature no longer matches (or the text is no longer a payload); the phone and the
    # server agree on which.
    texts = [changed(certificate.payload, at) for at in (10, 40, -20, -3)]
    for text, result in zip(texts, verify(qr_page, texts, keys), strict=True):
        python = verification.verify_payload(text, today=TODAY)
        assert not python.ok
        expected = "malformed" if python.reason == "malformed" else "invalid"
        assert result["status"] == expected, (text, python.reason)
        assert result["fields"] is None
    # Lower case, padding, a missing piece: not payloads at all.
    broken = [
        certificate.payload.lower(),
        certificate.payload + "====",
        certificate.payload.rsplit(".", 1)[0],
        "LD3" + certificate.payload[3:],
        "",
    ]
    assert [r["status"] for r in verify(qr_page, broken, keys)] == ["malformed"] * len(broken)


def test_a_key_the_phone_does_not_hold_is_an_unknown_node(qr_page, zhejiang):
    certificate = issue_certificate()
    keys = bundle_keys()
    other = [dict(key, key_id="0000aaaa") for key in keys]
    # A key of the same id but another algorithm is no key for it either.
    relabelled = [dict(key, algorithm="sm2") for key in keys]
    results = verify(qr_page, [certificate.payload] * 3, [], TODAY)
    results += verify(qr_page, [certificate.payload], other)
    results += verify(qr_page, [certificate.payload], relabelled)
    assert [r["status"] for r in results] == ["unknown_key"] * 5
    # What the code claims is shown, unchecked (the collector picks her file with it).
    assert results[0]["fields"]["number"] == certificate.number


def test_past_its_date_it_is_expired(qr_page, zhejiang):
    from liudong.certificates import verification

    certificate = issue_certificate()
    keys = bundle_keys()
    last_day = certificate.valid_until
    after = last_day + datetime.timedelta(days=1)
    assert verification.verify_payload(certificate.payload, today=after).reason == "expired"
    assert verification.verify_payload(certificate.payload, today=last_day).ok
    assert verify(qr_page, [certificate.payload], keys, after)[0]["status"] == "expired"
    assert verify(qr_page, [certificate.payload], keys, last_day)[0]["status"] == "valid"


def test_an_sm2_certificate_is_left_to_the_server(qr_page, zhejiang, monkeypatch):
    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    certificate = issue_certificate()
    assert certificate.payload.startswith("LD2.SM2.")
    keys = bundle_keys()
    assert [key["algorithm"] for key in keys] == ["sm2"]
    result = verify(qr_page, [certificate.payload], keys)[0]
    assert result["status"] == "unsupported"
    assert result["fields"]["number"] == certificate.number
    assert verify(qr_page, [certificate.payload], [])[0]["status"] == "unknown_key"


# --- the same reading as Python's, on random input -------------------------------------------

# Digits beyond ASCII (Python's \d matches them), separators and spaces at the edges.
FIELD_TEXT = st.text(alphabet="0123456789-X|٣０ \n", max_size=24)
NAMES = st.text(min_size=0, max_size=55)
DATES = st.one_of(
    st.dates(min_value=datetime.date(1000, 1, 1)).map(lambda day: day.strftime("%Y%m%d")),
    st.sampled_from(["20260230", "00010101", "09991231", "2026121", "2O261208", "２0261208"]),
    FIELD_TEXT,
)


def _signed(fields: list[str], key) -> str:
    body = "|".join(fields).encode("utf-8")
    signature = key.sign(payloads.signed_message(body))
    return f"LD1.{payloads._b32(body)}.{payloads._b32(signature)}"


def _python_reading(text: str):
    try:
        return payloads.decode_any(text)[0].as_dict()
    except payloads.Malformed:
        return None


def _keys_for(key) -> list[dict]:
    return [{"key_id": "k1", "algorithm": "ed25519", "public_key": key.public.stored()}]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=NAMES, children=st.sampled_from(["0", "2", "02", "10", "100", "", "٣"]))
def test_random_names_read_the_same_in_python_and_on_the_phone(qr_page, name, children):
    from liudong import crypto

    key = crypto.generate(crypto.ED25519)
    fields = [
        "330106002-2026-000001",
        "330106199604120082",
        "19960412",
        "20",
        children,
        "20261208",
        "20460411",
        "k1",
        name,
    ]
    text = _signed(fields, key)
    expected = _python_reading(text)
    result = verify(qr_page, [text], _keys_for(key))[0]
    if expected is None:
        assert result["status"] == "malformed", (fields, result)
    else:
        assert result["status"] == "valid", (fields, result)
        assert result["fields"] == expected


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    number=st.one_of(
        st.just("330106002-2026-000001"), st.just("٣٣0106002-2026-000001"), FIELD_TEXT
    ),
    id_number=st.one_of(st.just("33010619960412008X"), st.just("33010619960412008X\n"), FIELD_TEXT),
    birth=DATES,
    marital=st.sampled_from(["20", "2", "٢0", "200", "ab"]),
    key_id=st.one_of(st.just("k1"), st.text(alphabet=string.ascii_letters + "0\n", max_size=18)),
)
def test_random_fields_read_the_same_in_python_and_on_the_phone(
    qr_page, number, id_number, birth, marital, key_id
):
    from liudong import crypto

    key = crypto.generate(crypto.ED25519)
    fields = [number, id_number, birth, marital, "1", "20261208", "20460411", key_id, "周敏"]
    text = _signed(fields, key)
    expected = _python_reading(text)
    keys = [{"key_id": key_id, "algorithm": "ed25519", "public_key": key.public.stored()}]
    result = verify(qr_page, [text], keys)[0]
    if expected is None:
        assert result["status"] == "malformed", (fields, result)
    else:
        assert result["status"] in ("valid", "expired"), (fields, result)
        assert result["fields"] == expected


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_one_changed_character_is_never_valid(qr_page, data):
    """Any character of a good payload replaced by any other: Python and the phone both
    refuse it, and agree whether it is still a payload (a bad signature) or not."""
    from liudong import crypto

    key = crypto.generate(crypto.ED25519)
    fields = ["330106002-2026-000001", "330106199604120082", "19960412", "20", "1"]
    text = _signed([*fields, "20261208", "20460411", "k1", "周敏"], key)
    at = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    other = data.draw(
        st.sampled_from(string.ascii_letters + string.digits + ".=|# ").filter(
            lambda char: char != text[at]
        )
    )
    tampered = text[:at] + other + text[at + 1 :]
    result = verify(qr_page, [tampered], _keys_for(key))[0]
    python = _python_reading(tampered)
    if python is None:
        assert result["status"] == "malformed", tampered
    else:
        # Still a payload (a changed body or signature that decodes): the signature fails.
        good = key.public.verify(
            payloads.decode_any(tampered)[2],
            payloads.signed_message(payloads.decode_any(tampered)[1]),
        )
        assert not good
        assert result["status"] == "invalid", tampered


# --- the check section of the field app ------------------------------------------------------

SHELL = "/field/"


@pytest.fixture
def field_grid(zhejiang, live_server):
    """Village specialist 村专干 of 北山社区, responsible for grid 北山一网格 (北山社区) with a
    collector of its first group. Collectors do not verify certificates (accounts.roles):
    the village's account does, door to door like them."""
    from conftest import make_user
    from liudong.regions.models import Region
    from liudong.regions.services import load_divisions, save_grid

    load_divisions(prefixes=("41",))  # her household registration place
    township = make_user("township_a", "township", "330106002", "北山专干")
    village = make_user("village_a1", "village", "330106002001", "村专干")
    collector = make_user("collector_a1", "collector", "330106002001001", "信息员")
    save_grid(
        acting_user=township,
        name="北山一网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code__in=["330106002001"]),
        responsible=village,
        collectors=[collector],
    )
    return village


@pytest.fixture
def her(field_grid):
    """王丽芳, registered in a township of 河南 (her certificate's issuer: this node, in the
    test), living in 北山社区's first group since 40 days."""
    from liudong.actors import OPERATOR
    from liudong.certificates import issuing
    from liudong.people.idnumbers import make
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.codes import Level
    from liudong.regions.models import Region

    township = (
        Region.objects.filter(code__startswith="411326", level=Level.TOWNSHIP)
        .order_by("code")
        .first()
    )
    born = datetime.date(1996, 4, 12)
    person = Person(
        id_number=make("411326", born, 8, "2"),
        name="王丽芳",
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region=township,
    )
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code="330106002001001"),
        arrival_date=datetime.date.today() - datetime.timedelta(days=40),
        address="北山路1号",
        reason="work",
    )
    certificate = issuing.issue(person, acting_user=OPERATOR)
    return person, certificate


def qr_photo(tmp_path, text: str, name: str = "qr.png"):
    """The QR the certificate prints (printing.qr_png of its link), as a photo file."""
    from liudong.certificates.printing import qr_png

    path = tmp_path / name
    path.write_bytes(qr_png(text))
    return path


def printed_qr_photo(tmp_path, certificate):
    """A phone's photo of the printed certificate's QR: the image the PDF carries
    (printing.print_certificate), a little turned and blurred on a larger grey page."""
    import io

    from PIL import Image, ImageFilter
    from pypdf import PdfReader

    from liudong.actors import OPERATOR
    from liudong.certificates import printing

    pdf = printing.print_certificate(certificate, acting_user=OPERATOR)
    (image,) = PdfReader(io.BytesIO(pdf)).pages[0].images
    code = image.image.convert("RGB").resize((420, 420))
    code = code.rotate(7, expand=True, fillcolor=(235, 235, 228))
    photo = Image.new("RGB", (1280, 960), (200, 200, 190))
    photo.paste(code, (380, 200))
    photo = photo.filter(ImageFilter.GaussianBlur(1.2))
    path = tmp_path / "photo.jpg"
    photo.save(path, quality=80)
    return path


def open_verify(page) -> None:
    """The village specialist's field app, on the verification tab, the grid's data loaded."""
    from tests.browser.pages import sign_in

    sign_in(page, "village_a1")
    page.goto(f"{SHELL}#verify")
    expect(page.get_by_test_id("field-user")).to_contain_text("村专干")
    expect(page.get_by_test_id("verify-scan")).to_be_visible()


QUEUE = """() => new Promise((resolve, reject) => {
  const opening = indexedDB.open("liudong-field");
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const db = opening.result;
    const reading = db.transaction("queue").objectStore("queue").getAll();
    reading.onsuccess = () => { db.close(); resolve(reading.result); };
    reading.onerror = () => reject(reading.error);
  };
})"""


def queued(page) -> list[dict]:
    return page.evaluate(QUEUE)


def until(page, found, seconds: float = 20):
    """What ``found()`` returns once it is truthy (polled: IndexedDB changes fire no event)."""
    for _ in range(int(seconds * 5)):
        if value := found():
            return value
        page.wait_for_timeout(200)
    raise AssertionError("waited in vain")


def test_a_photo_of_the_printed_qr_verifies_offline_and_waits(phone_page, her, tmp_path):
    from liudong.people.idnumbers import mask

    person, certificate = her
    page = phone_page
    open_verify(page)
    page.context.set_offline(True)
    page.get_by_test_id("verify-photo").set_input_files(printed_qr_photo(tmp_path, certificate))
    result = page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-status", "valid")
    expect(result).to_contain_text(mask(person.id_number))
    expect(result).to_contain_text("王丽芳")
    assert person.id_number not in page.content()
    shot(page, "field-qr-photo-valid.png", first_screen=True)
    shots(page, "field-qr-photo-valid")
    page.get_by_test_id("verify-save").click()
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", "1")
    (action,) = queued(page)
    assert action["kind"] == "verification" and action["state"] == "waiting"
    assert action["data"]["method"] == "qr"
    assert action["data"]["payload"] == certificate.payload
    assert action["data"]["person"] == person.pk
    assert action["data"]["offline_result"] == "valid"
    assert person.id_number not in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def other_node_payload(certificate) -> str:
    """Her certificate as another node would sign it: a key this node (and so the phone's
    bundle) does not hold."""
    import dataclasses

    from liudong import crypto
    from liudong.certificates.issuing import contents_of

    key = crypto.generate(crypto.ED25519)
    contents = dataclasses.replace(contents_of(certificate), key_id=key.public.key_id)
    body = payloads.body_bytes(contents)
    return payloads.encode(contents, key.sign(payloads.signed_message(body)))


def test_a_qr_from_an_unknown_node_says_so(phone_page, her):
    _person, certificate = her
    page = phone_page
    open_verify(page)
    page.context.set_offline(True)
    foreign = other_node_payload(certificate)
    page.get_by_test_id("verify-code").fill(payloads.link(foreign))
    page.get_by_test_id("verify-check").click()
    result = page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-status", "unknown_key")
    # The collector may still record it: the server checks it against the keys of the nodes
    # it trusts when the phone is online.
    shot(page, "field-qr-unknown-node.png", first_screen=True)
    page.get_by_test_id("verify-save").click()
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", "1")
    (action,) = queued(page)
    assert action["data"]["offline_result"] == "unknown_key"
    assert action["data"]["payload"] == foreign


def test_a_tampered_code_cannot_be_recorded(phone_page, her):
    _person, certificate = her
    page = phone_page
    open_verify(page)
    page.get_by_test_id("verify-code").fill(changed(certificate.payload, -5))
    page.get_by_test_id("verify-check").click()
    result = page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-status", "invalid")
    expect(page.get_by_test_id("verify-save")).to_be_hidden()
    # Nothing of a code whose signature fails is shown as hers.
    expect(result.locator("[data-verify-fields] tr")).to_have_count(0)
    shot(page, "field-qr-invalid.png", first_screen=True)
    assert queued(page) == []


def test_a_typed_certificate_number_is_recorded_for_the_chosen_person(phone_page, her):
    person, certificate = her
    page = phone_page
    open_verify(page)
    page.context.set_offline(True)
    number = page.get_by_test_id("verify-number")
    number.fill("41132600-2026-1")
    page.get_by_test_id("verify-use-number").click()
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-status", "number_bad")
    expect(page.get_by_test_id("verify-save")).to_be_hidden()
    number.fill(certificate.number)
    page.get_by_test_id("verify-use-number").click()
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-status", "number")
    page.locator("[data-verify-person]").select_option(str(person.pk))
    page.get_by_test_id("verify-save").click()
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", "1")
    (action,) = queued(page)
    assert action["data"] == {
        "person": person.pk,
        "method": "number",
        "payload": "",
        "number": certificate.number,
        "offline_result": "",
    }


FULL_STORAGE = """
(() => {
  const add = IDBObjectStore.prototype.add;
  IDBObjectStore.prototype.add = function (...args) {
    if (this.name === "queue") {
      throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    }
    return add.apply(this, args);
  };
})();
"""


def test_storage_full_says_the_verification_was_not_saved(phone_page, her):
    _person, certificate = her
    page = phone_page
    page.context.add_init_script(FULL_STORAGE)
    open_verify(page)
    page.get_by_test_id("verify-code").fill(certificate.payload)
    page.get_by_test_id("verify-check").click()
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-status", "valid")
    page.get_by_test_id("verify-save").click()
    message = page.get_by_test_id("field-message")
    expect(message).to_have_attribute("data-kind", "error")
    expect(message).to_have_text(chinese(VERIFY_STRINGS["verify_storage_full"]))
    # Nothing was lost silently: the result stays, to be recorded once there is room.
    expect(page.get_by_test_id("verify-save")).to_be_enabled()
    assert queued(page) == []


# --- the camera: Chromium's fake camera plays a video of the printed QR -------------------------


def write_y4m(path, image, frames: int = 4) -> None:
    """A YUV4MPEG2 video (4:2:0) of one picture, what --use-file-for-fake-video-capture plays."""
    picture = image.convert("YCbCr")
    width, height = picture.size
    luma, blue, red = picture.split()
    half = (width // 2, height // 2)
    planes = luma.tobytes() + blue.resize(half).tobytes() + red.resize(half).tobytes()
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)


def camera_video(tmp_path, text: str | None):
    """640x480 frames: the QR of ``text`` held in front of the camera (grey around it), or
    no QR at all."""
    import io

    from PIL import Image

    from liudong.certificates.printing import qr_png

    frame = Image.new("RGB", (640, 480), (180, 180, 170))
    if text is not None:
        code = Image.open(io.BytesIO(qr_png(text, scale=4))).convert("RGB")
        frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    path = tmp_path / ("qr.y4m" if text else "blank.y4m")
    write_y4m(path, frame)
    return path


@pytest.fixture
def camera_phone(request, playwright_session, live_server):
    """open(video): a phone-sized page of a Chromium whose camera plays ``video``; the
    browser is launched apart from the session's (the fake camera is a launch flag)."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, TIMEOUT_MS
    from tests.browser.pages import PageProblems, watch_context

    opened = []
    problems = PageProblems()

    def open_with(video):
        browser = playwright_session.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        context = browser.new_context(locale="zh-CN", viewport=PHONE, base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        watch_context(context, problems)
        opened.append(browser)
        page = context.new_page()
        page.base_url = live_server.url
        return page

    yield open_with
    for browser in opened:
        browser.close()
    assert not problems.unexpected(()), problems.unexpected(())


CAMERA_OFF = """() => {
  const video = document.querySelector("[data-verify-video]");
  return video.srcObject === null && document.querySelector("[data-verify-camera]").hidden;
}"""


def test_the_camera_reads_the_qr_and_stops(camera_phone, her, tmp_path):
    person, certificate = her
    page = camera_phone(camera_video(tmp_path, payloads.link(certificate.payload)))
    open_verify(page)
    page.context.set_offline(True)
    page.get_by_test_id("verify-scan").click()
    result = page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-status", "valid")
    assert page.evaluate(CAMERA_OFF)  # the camera went off with the first good frame
    expect(page.locator("[data-verify-person]")).to_have_value(str(person.pk))
    shot(page, "field-qr-camera-valid.png", first_screen=True)
    page.get_by_test_id("verify-save").click()
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", "1")
    assert queued(page)[0]["data"]["payload"] == certificate.payload


def test_the_camera_stops_when_the_section_closes(camera_phone, her, tmp_path):
    page = camera_phone(camera_video(tmp_path, None))
    open_verify(page)
    page.get_by_test_id("verify-scan").click()
    expect(page.locator("[data-verify-camera]")).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-verify-video]').videoWidth > 0")
    shot(page, "field-qr-camera-looking.png", first_screen=True)
    page.get_by_test_id("field-tab-people").click()
    page.wait_for_function(CAMERA_OFF)


def test_back_online_the_scanned_verification_is_recorded_once(phone_page, her, tmp_path):
    """The whole way: a photo of the printed QR checked offline, queued, sent when the phone
    is online again; the server checked it again and recorded it once, with the offline
    times in its audit entry."""
    from liudong.audit.models import AuditEntry
    from liudong.certificates.models import Verification

    person, certificate = her
    page = phone_page
    open_verify(page)
    page.context.set_offline(True)
    page.get_by_test_id("verify-photo").set_input_files(
        qr_photo(tmp_path, payloads.link(certificate.payload))
    )
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-status", "valid")
    page.get_by_test_id("verify-save").click()
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", "1")
    (action,) = queued(page)
    assert not Verification.objects.filter(person=person).exists()

    page.context.set_offline(False)  # the app sends what waits as soon as it is online
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", "0")
    (done,) = Verification.objects.filter(person=person)
    assert (done.method, done.number) == ("qr", certificate.number)
    entry = AuditEntry.objects.filter(detail__offline__client_id=action["client_id"]).first()
    assert entry is not None and entry.detail["offline"]["kind"] == "verification"


def test_the_server_refuses_what_the_phone_could_not_check(phone_page, her):
    """A QR from a node the server does not trust either: recorded offline as "unknown
    node", refused when sent, and kept on the phone with the server's message."""
    from liudong.certificates.models import Verification

    person, certificate = her
    page = phone_page
    open_verify(page)
    page.context.set_offline(True)
    page.get_by_test_id("verify-code").fill(other_node_payload(certificate))
    page.get_by_test_id("verify-check").click()
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-status", "unknown_key")
    page.get_by_test_id("verify-save").click()
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", "1")
    page.context.set_offline(False)  # the app sends what waits as soon as it is online
    action = until(page, lambda: [a for a in queued(page) if a["state"] == "refused"])[0]
    assert action["message"], action
    assert not Verification.objects.filter(person=person).exists()


# --- the public check page opens either version's link ---------------------------------------


def test_the_public_page_opens_an_ld2_link(phone_page, zhejiang, monkeypatch):
    """Under LIUDONG_CRYPTO=sm the QR's link carries LD2.SM2...: a phone camera opening it
    gets the answer as for LD1 (the page's script posts the fragment)."""
    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    certificate = issue_certificate()
    assert certificate.payload.startswith("LD2.SM2.")
    page = phone_page
    link = payloads.link(certificate.payload)
    page.goto(link[link.index(payloads.PUBLIC_CHECK_PATH) :])  # on the live server's host
    expect(page.get_by_test_id("verify-status")).to_have_text("✓ 有效")
    assert certificate.payload[:40] not in page.url


def test_a_photo_without_a_qr_code_says_so(phone_page, her, tmp_path):
    from PIL import Image

    page = phone_page
    open_verify(page)
    path = tmp_path / "wall.jpg"
    Image.new("RGB", (800, 600), (200, 200, 190)).save(path)
    page.get_by_test_id("verify-photo").set_input_files(path)
    message = page.get_by_test_id("field-message")
    expect(message).to_have_text(chinese(VERIFY_STRINGS["verify_not_found"]))
    expect(page.get_by_test_id("verify-result")).to_be_hidden()
    assert queued(page) == []
