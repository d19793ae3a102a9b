"""Full region names (a file page shows two): each region's ancestors' names then its own,
"市辖区" left out, the ancestors of all of them read in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from liudong.regions.models import Region, full_names

pytestmark = pytest.mark.django_db


def test_two_full_names_in_one_query(villages):
    beishan = Region.objects.get(code="330106002001")
    guangshan = Region.objects.get(code="411522")
    with CaptureQueriesContext(connection) as seen:
        names = full_names(beishan, None, guangshan)
    assert len(seen.captured_queries) == 1
    assert names[1] == ""
    assert names[0].startswith("浙江省杭州市") and names[0].endswith("北山社区")
    assert names[2] == "河南省信阳市光山县"
    assert beishan.full_name() == names[0]
