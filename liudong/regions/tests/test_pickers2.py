"""Pickers in the remaining places (issue 16 item 3, rest): the grid's villages and groups
picked as chips, region filters of the web lists through the picker, and old codes in
the places and services spreadsheets taken as their successors with a warning."""

import pytest

from liudong.regions.forms import GridForm
from liudong.regions.models import Grid

pytestmark = pytest.mark.django_db


# --- the grid's villages and groups --------------------------------------------------------


def test_grid_areas_render_as_a_multi_picker_with_named_chips(township_a):
    form = GridForm(user=township_a, initial={"areas": "330106002001 330106002002 999"})
    areas = str(form["areas"])
    assert "data-multiple" in areas and 'data-lengths="12,15"' in areas
    assert 'data-under="330106002"' in areas  # villages of the user's own region
    # Without JS it is the codes textarea it always was.
    assert "<textarea" in areas and "330106002001 330106002002 999</textarea>" in areas
    # The chips already chosen carry their names (an unknown code keeps its own).
    assert 'data-code="330106002001" data-name="北山社区"' in areas
    assert 'data-code="330106002002" data-name="曙光社区"' in areas
    assert 'data-code="999" data-name="999"' in areas


def test_grid_saved_from_picked_codes(township_a, client_for):
    response = client_for(township_a).post(
        "/regions/grids/new/",
        {"name": "北山一网格", "region": "330106002", "areas": "330106002001 330106002001001"},
    )
    assert response.status_code == 302
    grid = Grid.objects.get(name="北山一网格")
    assert set(grid.areas.values_list("code", flat=True)) == {"330106002001", "330106002001001"}


def test_grid_page_shows_chips_of_the_saved_areas(grid_a, township_a, client_for):
    page = client_for(township_a).get(f"/regions/grids/{grid_a.pk}/").content.decode()
    assert 'data-testid="chips-areas"' in page
    assert page.count('class="region-picker"') == 2  # the grid's region and its areas
    assert 'data-name="曙光社区"' in page


# --- region filters of the web lists -----------------------------------------------------


def test_person_list_filters_by_a_picked_region(township_a, client_for):
    from liudong.people.tests.test_web import register

    register(township_a, "张伟", sequence=1, residence="330106002001")
    register(township_a, "李娜", sequence=2, residence="330106002002")
    client = client_for(township_a)
    page = client.get("/people/", {"within": "330106002002"}).content.decode()
    assert "李娜" in page and "张伟" not in page
    # The filter box is the picker, in the user's own region, showing the code chosen.
    assert "data-region-picker" in page and 'data-under="330106002"' in page
    assert 'name="within" value="330106002002"' in page
    assert 'data-testid="filter-within"' in page


def test_place_list_region_filter_is_the_picker(township_a, client_for):
    from liudong.places.services import create_employer

    create_employer(acting_user=township_a, name="北山服装厂", region="330106002001")
    client = client_for(township_a)
    page = client.get("/places/employers/", {"region": "330106002002"}).content.decode()
    assert "北山服装厂" not in page
    assert 'name="region" value="330106002002"' in page and 'data-under="330106002"' in page
    page = client.get("/places/employers/", {"region": "330106002001"}).content.decode()
    assert "北山服装厂" in page
    # A region outside the user's own lists the user's own region (as before).
    page = client.get("/places/employers/", {"region": "330106004"}).content.decode()
    assert "北山服装厂" in page and 'value="330106004"' not in page
