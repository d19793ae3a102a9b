"""The region browser: the tree opened at the user's region, htmx expanders, live search."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


@pytest.fixture
def regions_page(page, township_a, sign_in):
    """Township A signed in, on /regions/."""
    sign_in(page, "township_a")
    page.goto("/regions/")
    expect(page.get_by_test_id("region-tree")).to_be_visible()
    return page


def node(page, code: str):
    """The tree's list item for one region."""
    return page.get_by_test_id("region-tree").locator(f"li[data-code='{code}']")


def results(page):
    return page.get_by_test_id("region-results")


def result_row(page, code: str):
    return (
        results(page)
        .locator("tbody tr")
        .filter(has=page.locator("td.code", has_text=re.compile(rf"^{code}$")))
    )


def test_tree_is_open_along_the_users_region_path(regions_page):
    page = regions_page
    for code, name in [
        ("33", "浙江省"),
        ("3301", "杭州市"),
        ("330106", "西湖区"),
        ("330106002", "北山街道"),
    ]:
        item = node(page, code)
        expect(item).to_be_visible()
        expect(item.locator(":scope > a:not(.toggle)")).to_have_text(name)
        # An open node offers to collapse, not to expand: its children are listed.
        expect(page.get_by_test_id(f"expand-{code}")).to_have_count(0)

    # Siblings on the path are listed closed, with an expander.
    expect(node(page, "330106004")).to_contain_text("西溪街道")
    expect(page.get_by_test_id("expand-330106004")).to_be_visible()
    expect(page.get_by_test_id("expand-3302")).to_be_visible()
    # The user's own township lists its village, closed.
    expect(node(page, "330106002").locator("li[data-code='330106002001']")).to_contain_text(
        "北山社区"
    )
    expect(node(page, "330106002001001")).to_have_count(0)
    # Nothing searched yet.
    expect(results(page)).to_have_count(0)


def test_expanding_a_city_loads_its_counties_into_the_tree(regions_page):
    page = regions_page
    ningbo = node(page, "3302")
    expect(ningbo).to_contain_text("宁波市")
    expect(node(page, "330203")).to_have_count(0)

    page.get_by_test_id("expand-3302").click()

    haishu = ningbo.locator("li[data-code='330203']")
    expect(haishu).to_be_visible()
    expect(haishu).to_contain_text("海曙区")
    # Stayed on the browser: the expander is loaded in place, not followed as a link.
    expect(page).to_have_url(page.base_url + "/regions/")

    # The loaded children can be expanded in turn (htmx processed the new content).
    page.get_by_test_id("expand-330203").click()
    expect(haishu.locator("li[data-code^='330203']").first).to_be_visible()


def test_expanding_a_village_shows_its_groups(regions_page):
    page = regions_page
    page.get_by_test_id("expand-330106002001").click()

    group = node(page, "330106002001").locator("li[data-code='330106002001001']")
    expect(group).to_be_visible()
    expect(group).to_contain_text("第一村民小组")
    # A group is a leaf: nothing below it to expand.
    expect(page.get_by_test_id("expand-330106002001001")).to_have_count(0)


def test_a_node_collapses_and_opens_again_without_duplicating_children(regions_page):
    page = regions_page
    page.get_by_test_id("expand-330106004").click()
    children = node(page, "330106004").locator(":scope > ul > li")
    expect(children.first).to_be_visible()
    count = children.count()

    page.get_by_test_id("collapse-330106004").click()
    expect(children).to_have_count(0)
    expect(page.get_by_test_id("expand-330106004")).to_be_visible()

    page.get_by_test_id("expand-330106004").click()
    expect(children).to_have_count(count)
    # The open path collapses too.
    page.get_by_test_id("collapse-3301").click()
    expect(node(page, "330106")).to_have_count(0)


def test_search_by_code_lists_the_county(regions_page):
    page = regions_page
    page.get_by_test_id("region-search").fill("330106")

    expect(results(page)).to_be_visible()
    expect(result_row(page, "330106")).to_contain_text("西湖区")
    expect(result_row(page, "330106002")).to_contain_text("北山街道")
    # Only the searched subtree: no other county.
    expect(result_row(page, "330105")).to_have_count(0)
    # htmx replaced the results only; the page and its tree are still there, once.
    expect(page.get_by_test_id("region-tree")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/regions/\?q=330106$"))


def test_search_by_chinese_name_lists_township_and_village(regions_page):
    page = regions_page
    page.get_by_test_id("region-search").fill("北山")

    expect(result_row(page, "330106002")).to_contain_text("北山街道")
    expect(result_row(page, "330106002001")).to_contain_text("北山社区")
    expect(result_row(page, "330106004")).to_have_count(0)


def test_search_updates_as_the_user_types(regions_page):
    page = regions_page
    search = page.get_by_test_id("region-search")
    search.fill("北山")
    expect(result_row(page, "330106002001")).to_be_visible()

    search.fill("第一村民")

    expect(result_row(page, "330106002001001")).to_contain_text("第一村民小组")
    expect(result_row(page, "330106002001")).to_have_count(0)


def test_search_without_match_says_so(regions_page):
    page = regions_page
    page.get_by_test_id("region-search").fill("无此地名")

    empty = page.get_by_test_id("region-results-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("无此地名")
    expect(results(page)).to_have_count(0)


def test_search_link_opens_the_region(regions_page):
    page = regions_page
    page.get_by_test_id("region-search").fill("北山社区")
    link = result_row(page, "330106002001").get_by_role("link", name="北山社区")

    link.click()

    expect(page).to_have_url(page.base_url + "/regions/330106002001/")
    expect(page.locator("main")).to_contain_text("北山社区")


def test_search_by_address_bar_renders_results_on_full_page(regions_page):
    page = regions_page
    page.goto("/regions/?q=330106")

    expect(result_row(page, "330106")).to_contain_text("西湖区")
    expect(page.get_by_test_id("region-search")).to_have_value("330106")
    expect(page.get_by_test_id("region-tree")).to_be_visible()


def test_clearing_the_search_empties_the_results(regions_page):
    page = regions_page
    search = page.get_by_test_id("region-search")
    search.fill("北山")
    expect(results(page)).to_be_visible()

    with page.expect_response(lambda r: "/regions/" in r.url and r.request.method == "GET"):
        search.fill("")

    expect(page.get_by_test_id("region-tree")).to_have_count(1, timeout=2_000)
    expect(page.locator("header.site")).to_have_count(1, timeout=2_000)
    expect(results(page)).to_have_count(0)
