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
