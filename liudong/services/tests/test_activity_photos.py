"""Photos of campaign activities: at most five per activity, JPEG, PNG or WebP of at most
5 MB (told by opening the file, not by its name), stored re-encoded without EXIF/GPS under
a random name, served only to those who see the activity, adding and removing audited.

Township A (330106002) holds the activity; township B (330106004) sees none of it. Every
test keeps its files under a var folder of its own (tmp_path).
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from liudong.audit.models import AuditEntry
from liudong.regions.models import Region
from liudong.services.campaigns import services as campaign_services
from liudong.services.models import MAX_ACTIVITY_PHOTOS, ActivityPhoto

pytestmark = pytest.mark.django_db

CAMERA = "SecretCam-9000"


@pytest.fixture(autouse=True)
def own_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def activity(campaign, township_a):
    return campaign_services.create_activity(
        acting_user=township_a,
        campaign=campaign,
        date=datetime.date(2025, 1, 20),
        place="北山社区文化广场",
        region=Region.objects.get(code="330106002001"),
        participants_count=40,
    )


def photo_bytes(kind: str = "JPEG", size=(640, 480), gps: bool = True) -> bytes:
    """A picture taken by CAMERA at a place (EXIF with a GPS position)."""
    image = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0110] = "Model X"  # Model
    if gps:
        position = exif.get_ifd(0x8825)
        position[1] = "N"
        position[2] = (30.0, 16.0, 12.5)
        position[3] = "E"
        position[4] = (120.0, 7.0, 59.0)
    buffer = io.BytesIO()
    image.save(buffer, kind, exif=exif.tobytes())
    return buffer.getvalue()


def upload(content: bytes, name: str = "活动现场.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def post_photo(client, activity, content: bytes, name: str = "活动现场.jpg"):
    return client.post(
        reverse("services:activity_photos", args=[activity.pk]), {"photo": upload(content, name)}
    )


def stored_files(var_dir) -> list:
    folder = var_dir / "media" / "activity-photos"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_photo_is_stored_re_encoded_without_exif_and_gps(
    client_for, township_a, activity, own_var_dir
):
    original = photo_bytes()
    assert CAMERA.encode() in original  # the upload carries the camera and the place
    response = post_photo(client_for(township_a), activity, original)
    assert response.status_code == 302

    photo = ActivityPhoto.objects.get(activity=activity)
    assert photo.uploaded_by == township_a
    # A random name, not hers; the photo and its thumbnail, nothing else.
    assert "活动现场" not in photo.file and photo.file.endswith(".jpg")
    assert [p.name for p in stored_files(own_var_dir)] == sorted([photo.file, photo.thumbnail_name])
    stored = (own_var_dir / "media" / "activity-photos" / photo.file).read_bytes()
    assert stored != original
    assert CAMERA.encode() not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (640, 480)
        assert not image.getexif()
        assert "exif" not in image.info
    with Image.open(own_var_dir / "media" / "activity-photos" / photo.thumbnail_name) as thumb:
        assert max(thumb.size) <= campaign_services.THUMBNAIL_SIDE

    assert AuditEntry.objects.filter(
        action="create", object_type="services.activityphoto", object_id=str(photo.pk)
    ).exists()

    # Shown on the campaign page and served to the office that sees the activity.
    client = client_for(township_a)
    page = client.get(reverse("services:campaign", args=[activity.campaign_id])).content.decode()
    assert reverse("services:activity_photo", args=[photo.pk]) in page
    served = client.get(reverse("services:activity_photo", args=[photo.pk]))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == stored
    thumb = client.get(reverse("services:activity_photo", args=[photo.pk]) + "?size=thumb")
    assert thumb.status_code == 200


@pytest.mark.parametrize(
    ("kind", "suffix", "mode"), [("PNG", "png", "RGBA"), ("WEBP", "webp", "RGB")]
)
def test_png_and_webp_are_kept_in_their_format(
    township_a, activity, own_var_dir, kind, suffix, mode
):
    image = Image.new(mode, (300, 200), (10, 120, 200) + ((128,) if mode == "RGBA" else ()))
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = CAMERA
    image.save(buffer, kind, exif=exif.tobytes())
    photo = campaign_services.add_activity_photo(
        acting_user=township_a, activity=activity, uploaded=upload(buffer.getvalue(), "a.jpg")
    )
    assert photo.file.endswith(f".{suffix}")  # told by its content, not the name "a.jpg"
    stored = (own_var_dir / "media" / "activity-photos" / photo.file).read_bytes()
    assert CAMERA.encode() not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert kept.format == kind and not kept.getexif()


def test_a_text_file_named_jpg_is_refused(client_for, township_a, activity, own_var_dir):
    response = post_photo(client_for(township_a), activity, "名单：张三、李四\n".encode() * 50)
    assert response.status_code == 200
    assert "不是 JPEG、PNG 或 WebP 图片" in str(response.context["form"].errors["photo"])
    assert "活动现场.jpg" in str(response.context["form"].errors["photo"])
    assert 'data-testid="field-error-photo"' in response.content.decode()
    assert not ActivityPhoto.objects.exists()
    assert stored_files(own_var_dir) == []


def test_a_truncated_image_is_refused(township_a, activity):
    with pytest.raises(Exception, match="not a JPEG, PNG or WebP"):
        campaign_services.add_activity_photo(
            acting_user=township_a, activity=activity, uploaded=upload(photo_bytes()[:300])
        )


def test_a_photo_over_5_mb_is_refused(client_for, township_a, activity, own_var_dir):
    # A real JPEG padded past 5 MB (decoders ignore what follows the image).
    content = photo_bytes() + b"\0" * (5 * 1024 * 1024)
    response = post_photo(client_for(township_a), activity, content)
    assert response.status_code == 200
    assert "超过 5 MB" in str(response.context["form"].errors["photo"])
    assert not ActivityPhoto.objects.exists()
    assert stored_files(own_var_dir) == []


def test_a_sixth_photo_is_refused(client_for, township_a, activity, own_var_dir):
    for n in range(MAX_ACTIVITY_PHOTOS):
        campaign_services.add_activity_photo(
            acting_user=township_a, activity=activity, uploaded=upload(photo_bytes(), f"{n}.jpg")
        )
    client = client_for(township_a)
    page = client.get(reverse("services:activity_photos", args=[activity.pk])).content.decode()
    assert 'data-testid="photos-full"' in page and 'data-testid="photo-form"' not in page
    response = post_photo(client, activity, photo_bytes())
    assert response.status_code == 200
    assert "最多 5 张照片" in str(response.context["form"].errors["photo"])
    assert 'data-testid="field-error-photo"' in response.content.decode()
    assert ActivityPhoto.objects.filter(activity=activity).count() == MAX_ACTIVITY_PHOTOS
    assert len(stored_files(own_var_dir)) == 2 * MAX_ACTIVITY_PHOTOS


def test_another_township_gets_404_for_the_photo(
    client_for, client, township_a, township_b, activity
):
    photo = campaign_services.add_activity_photo(
        acting_user=township_a, activity=activity, uploaded=upload(photo_bytes())
    )
    url = reverse("services:activity_photo", args=[photo.pk])
    other = client_for(township_b)
    assert other.get(url).status_code == 404
    assert other.get(url + "?size=thumb").status_code == 404
    assert other.get(reverse("services:activity_photos", args=[activity.pk])).status_code == 404
    assert other.post(reverse("services:activity_photo_remove", args=[photo.pk])).status_code == 404
    assert ActivityPhoto.objects.filter(pk=photo.pk).exists()
    # Not public media: signed out, the photo asks for a sign-in.
    assert client.get(url).status_code == 302


def test_removing_a_photo_is_audited_and_its_files_go(
    client_for, township_a, activity, own_var_dir, django_capture_on_commit_callbacks
):
    photo = campaign_services.add_activity_photo(
        acting_user=township_a, activity=activity, uploaded=upload(photo_bytes())
    )
    assert len(stored_files(own_var_dir)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(township_a).post(
            reverse("services:activity_photo_remove", args=[photo.pk])
        )
    assert response.status_code == 302
    assert response.url == reverse("services:activity_photos", args=[activity.pk])
    assert not ActivityPhoto.objects.filter(pk=photo.pk).exists()
    entry = AuditEntry.objects.get(
        action="delete", object_type="services.activityphoto", object_id=str(photo.pk)
    )
    assert entry.actor == township_a and entry.before["file"] == photo.file
    assert stored_files(own_var_dir) == []


def test_deleting_the_activity_removes_its_photo_files(
    township_a, activity, own_var_dir, django_capture_on_commit_callbacks
):
    campaign_services.add_activity_photo(
        acting_user=township_a, activity=activity, uploaded=upload(photo_bytes())
    )
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.delete_activity(acting_user=township_a, activity=activity)
    assert not ActivityPhoto.objects.exists()
    assert stored_files(own_var_dir) == []
