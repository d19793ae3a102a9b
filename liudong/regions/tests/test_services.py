import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from liudong.audit.models import AuditEntry
from liudong.base import StaleWrite
from liudong.regions.models import Grid, Region
from liudong.regions.services import add_region, rename_region, save_grid

pytestmark = pytest.mark.django_db


def test_county_admin_adds_a_village_and_it_is_audited(county_admin):
    region = add_region(acting_user=county_admin, code="330106002003", name="新村")
    assert region.parent_id == "330106002" and region.level == 5 and region.source == "local"
    entry = AuditEntry.objects.get(object_type="regions.region", object_id="330106002003")
    assert entry.action == "create" and entry.actor_username == "county_admin"
    assert entry.after["name"] == "新村"


def test_a_township_may_not_add_villages(township_a):
    with pytest.raises(PermissionDenied, match="county administrator"):
        add_region(acting_user=township_a, code="330106002003", name="新村")


def test_another_county_may_not_add_villages_here(county_b_admin):
    with pytest.raises(PermissionDenied, match="outside your region"):
        add_region(acting_user=county_b_admin, code="330106002003", name="新村")


def test_a_village_whose_parent_is_missing_is_refused(county_admin):
    with pytest.raises(ValidationError, match="parent region 330106999"):
        add_region(acting_user=county_admin, code="330106999001", name="孤村")
    assert not Region.objects.filter(code="330106999001").exists()


def test_an_existing_code_is_refused(county_admin):
    with pytest.raises(ValidationError, match="already exists"):
        add_region(acting_user=county_admin, code="330106002001", name="again")


def test_rename_checks_the_version_it_was_read_at(county_admin):
    region = Region.objects.get(code="330106002001")
    rename_region(acting_user=county_admin, region=region, name="北山一社区", expected_version=1)
    stale = Region.objects.get(code="330106002001")
    with pytest.raises(StaleWrite):
        rename_region(acting_user=county_admin, region=stale, name="改名", expected_version=1)
    assert Region.objects.get(code="330106002001").name == "北山一社区"


def test_national_divisions_cannot_be_renamed_by_hand(county_admin):
    with pytest.raises(PermissionDenied):
        rename_region(
            acting_user=county_admin, region=Region.objects.get(code="330106002"), name="x"
        )


def test_grid_rules(township_a, township_b, collector_a1):
    township = Region.objects.get(code="330106002")
    with pytest.raises(ValidationError) as exc:
        save_grid(
            acting_user=township_a,
            name="越界网格",
            region=township,
            areas=Region.objects.filter(code="330106004001"),
            collectors=[township_b],
        )
    assert set(exc.value.message_dict) == {"areas", "collectors"}
    with pytest.raises(PermissionDenied):
        save_grid(acting_user=collector_a1, name="g", region=township)
    with pytest.raises(PermissionDenied):
        save_grid(acting_user=township_b, name="g", region=township)
    assert not Grid.objects.exists()


def test_grid_update_is_version_checked_and_audited(grid_a, township_a):
    stale_version = grid_a.version
    save_grid(
        acting_user=township_a,
        grid=grid_a,
        name="北山网格",
        region=grid_a.region,
        areas=grid_a.areas.all(),
        expected_version=stale_version,
    )
    with pytest.raises(StaleWrite):
        save_grid(
            acting_user=township_a,
            grid=Grid.objects.get(pk=grid_a.pk),
            name="又改",
            region=grid_a.region,
            expected_version=stale_version,
        )
    update = AuditEntry.objects.filter(object_type="regions.grid", action="update").get()
    assert update.before["name"] == "北山一网格" and update.after["name"] == "北山网格"


def test_subtree_query_is_an_index_range_scan(villages):
    queryset = Region.objects.subtree("330106")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "SEARCH" in plan and "code>? AND code<?" in plan, plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan and "Seq Scan" not in plan, plan
    # the county, its 12 townships, 4 villages and 1 group
    assert queryset.count() == 1 + 12 + 4 + 1


def test_search_puts_the_users_own_regions_first_and_names_their_ancestors(villages):
    from liudong.regions.services import search_regions

    results = search_regions("北山", near="330106002", limit=50)
    assert [r.code for r in results[:2]] == ["330106002", "330106002001"]
    assert results[1].path_name == "浙江省杭州市西湖区北山街道"
    assert len(results) > 2  # 北山 townships elsewhere in China follow
    assert [r.code for r in search_regions("3301060020", near="11", limit=5)] == [
        "330106002001",
        "330106002002",
        "330106002001001",
    ]


@pytest.mark.parametrize("query", ["33\x00", "\x00北山", "1" * 40])
def test_malformed_searches_are_answered_not_crashed(query, township_a, auditor, client_for):
    # A control character is refused at the edge (400, liudong.controlchars); the rest
    # is answered with what matches.
    expected = 400 if "\x00" in query else 200
    client = client_for(township_a)
    assert client.get("/regions/", {"q": query}).status_code == expected
    assert client.get("/regions/", {"q": query}, HTTP_HX_REQUEST="true").status_code == expected
    assert client_for(auditor).get("/audit/", {"username": query}).status_code == expected
