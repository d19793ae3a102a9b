"""Her pages (issue 19 items 2, 3 and 5): her file, her certificate, her services, who read
her file and a copy of her data. They take no id: whose data is shown comes from her
session alone, so changing a URL can never show another person's. Every page she opens and
every download is in the audit log under her (``audit.record_for``)."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import override
from django.views.decorators.http import require_GET

from liudong.actors import Resident
from liudong.audit.models import Action
from liudong.certificates import printing
from liudong.people.models import Person

from . import copy_pdf, mine
from .audit import record_for
from .session import resident_required


def _person_or_404(resident: Resident) -> Person:
    try:
        return mine.her_person(resident)
    except Person.DoesNotExist:
        raise Http404 from None


@require_GET
@resident_required
def home(request: HttpRequest, resident: Resident) -> HttpResponse:
    person = _person_or_404(resident)
    certificate = mine.her_certificate(resident)
    record_for(resident, Action.VIEW, obj=person, detail={"page": "home"})
    return render(
        request,
        "residents/home.html",
        {
            "file": mine.her_file(resident),
            "certificate": certificate,
            "qr": printing.qr_svg(certificate.link) if certificate else "",
            "here": mine.services_here(resident),
            "services": mine.her_services(resident),
            "requests": mine.her_open_requests(resident),
        },
    )


@require_GET
@resident_required
def who_read(request: HttpRequest, resident: Resident) -> HttpResponse:
    person = _person_or_404(resident)
    # Read first, then log her read: her own entry is never in what she reads.
    read = mine.who_read(resident)
    record_for(resident, Action.VIEW, obj=person, detail={"page": "who_read"})
    return render(request, "residents/who_read.html", {"read": read})


@require_GET
@resident_required
def certificate_pdf(request: HttpRequest, resident: Resident) -> HttpResponse:
    """The same PDF staff print (certificates.printing.render_pdf), logged as her export."""
    _person_or_404(resident)
    found = mine.her_certificate(resident)
    if found is None:
        raise Http404
    data = printing.render_pdf(found.certificate)
    record_for(
        resident,
        Action.EXPORT,
        obj=found.certificate,
        detail={"action": "print", "format": "pdf"},
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="certificate-{found.certificate.number}.pdf"'
    )
    return response


@require_GET
@resident_required
def copy_json(request: HttpRequest, resident: Resident) -> HttpResponse:
    person = _person_or_404(resident)
    data = mine.copy_of(resident)
    record_for(resident, Action.EXPORT, obj=person, detail={"copy": "json"})
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@require_GET
@resident_required
def copy_pdf_view(request: HttpRequest, resident: Resident) -> HttpResponse:
    person = _person_or_404(resident)
    # Chinese whatever the interface language, like the project's other printed documents.
    with override("zh-hans"):
        data = copy_pdf.render(mine.copy_of(resident))
    record_for(resident, Action.EXPORT, obj=person, detail={"copy": "pdf"})
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="my-data.pdf"'
    return response
