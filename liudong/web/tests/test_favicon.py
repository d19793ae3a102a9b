"""The site's icon: browsers ask for /favicon.ico on every page outside its layout, and a 404
there is a console error on each."""

from django.contrib.staticfiles import finders


def test_favicon_ico_leads_to_the_icon_the_pages_name(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    assert answer["Location"] == "/static/web/favicon.svg"
    assert finders.find("web/favicon.svg")
