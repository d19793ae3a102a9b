from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView
from django.views.i18n import set_language

urlpatterns = [
    path("", include("liudong.web.urls")),
    path("accounts/", include("liudong.accounts.urls")),
    path("regions/", include("liudong.regions.urls")),
    path("people/", include("liudong.people.urls")),
    # Her access code, issued from her file's page (a staff page of the residents app).
    path("people/", include("liudong.residents.staff_urls")),
    path("certificates/", include("liudong.certificates.urls")),
    path("verify/", include("liudong.certificates.public_urls")),
    path("jobs/", include("liudong.jobs.urls")),
    path("places/", include("liudong.places.urls")),
    path("services/", include("liudong.services.urls")),
    path(
        "programmes/requalification/",
        include("liudong.services.programmes.requalification_urls"),
    ),
    path("programmes/", include("liudong.services.programmes.urls")),
    path("stats/", include("liudong.stats.urls")),
    path("exchange/matching/", include("liudong.exchange.matching.urls")),
    path("exchange/", include("liudong.exchange.urls")),
    path("assistance/", include("liudong.exchange.assistance.urls")),
    path("audit/", include("liudong.audit.urls")),
    path("api/", include("liudong.api.urls")),
    path("field/", include("liudong.field.urls")),
    # Her own view (issue 19): the resident signed in as herself.
    path("me/", include("liudong.residents.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    # Browsers ask for /favicon.ico on pages outside the site's layout (the API's browsable
    # pages); without it the console shows a 404.
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
]

handler400 = "liudong.web.views.bad_request"
handler403 = "liudong.web.views.permission_denied"
handler404 = "liudong.web.views.page_not_found"
handler500 = "liudong.web.views.server_error"
