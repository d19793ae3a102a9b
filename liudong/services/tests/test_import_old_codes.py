"""Old and unknown region codes in the services spreadsheets (issue 16 item 3): taken as
the successor or the nearest known parent with a warning naming row and field, as the
person import does; a code naming no province is still refused."""

from __future__ import annotations

import pytest

from conftest import make_user
from liudong.services.associations import spreadsheets as association_sheets
from liudong.services.models import AssociationBranch

from .test_import_export_more import BRANCH, counts, problems, table

pytestmark = pytest.mark.django_db


def test_branch_with_old_or_unknown_codes_saved_with_warnings(tmp_path, villages):
    cuiping = make_user("cuiping", "county", "511502")  # 翠屏区 replaced 县级宜宾市 512501
    path = table(
        tmp_path,
        BRANCH,
        ("翠屏协会", "512501", "", ""),
        ("翠屏二协会", "511502999", "", ""),  # a township not in the list: its county
        ("无名区划", "999999", "", ""),  # names no province: refused
        ("", "512501", "", ""),  # refused for its name: its region warning is not listed
    )
    summary = association_sheets.import_branches(path, acting_user=cuiping)
    assert counts(summary) == (2, 0, 0)
    assert problems(summary) == "4:region 5:name"
    assert dict(AssociationBranch.objects.values_list("name", "region_id")) == {
        "翠屏协会": "511502",
        "翠屏二协会": "511502",
    }
    assert [(w["row"], w["field"]) for w in summary.warnings] == [(2, "region"), (3, "region")]
    assert "512501" in summary.warnings[0]["message"] and "511502" in summary.warnings[0]["message"]
    assert "511502999" in summary.warnings[1]["message"]


def test_import_page_preview_lists_the_warnings(client_for, tmp_path, township_a):
    from django.urls import reverse

    from .test_import_export_more import upload

    path = table(tmp_path, BRANCH, ("新协会", "330106002999", "", ""))
    preview = client_for(township_a).post(reverse("services:branch_import"), {"file": upload(path)})
    page = preview.content.decode()
    assert 'data-testid="preview-warnings"' in page
    assert "330106002999" in page.split('data-testid="preview-warnings"')[1]
