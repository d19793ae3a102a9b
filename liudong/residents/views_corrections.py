"""Her corrections (issue 19 item 4): the requests she made and a form for a new one.

Thin: the rules are :mod:`liudong.residents.corrections`'. She reads only her own requests
(``in_scope(resident)``): another person's request id in the URL finds nothing (404)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from liudong.actors import Resident
from liudong.audit.models import Action
from liudong.base import scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.people.models import CorrectionRequest, Person

from . import corrections
from .audit import record_for
from .session import resident_required


def _labelled(request_: CorrectionRequest) -> CorrectionRequest:
    # The field in her words, and a chosen value by its words, for the template.
    request_.field_label = corrections.FIELDS.get(request_.field, request_.field)  # type: ignore[attr-defined]
    request_.requested_shown = dict(corrections.CHOICES.get(request_.field, ())).get(  # type: ignore[attr-defined]
        request_.requested_value, request_.requested_value
    )
    return request_


@resident_required
def correction_list(request: HttpRequest, resident: Resident) -> HttpResponse:
    rows = [
        _labelled(r)
        for r in CorrectionRequest.objects.in_scope(resident).order_by("-created", "-id")
    ]
    record_for(resident, Action.VIEW, object_type="people.correctionrequest", detail={"list": True})
    return render(request, "residents/corrections_list.html", {"rows": rows})


@resident_required
def correction_detail(request: HttpRequest, resident: Resident, pk: int) -> HttpResponse:
    row = scoped_object_or_404(CorrectionRequest, resident, pk=pk)
    record_for(resident, Action.VIEW, obj=row)
    return render(request, "residents/corrections_detail.html", {"row": _labelled(row)})


@resident_required
@post_guarded
def correction_new(request: HttpRequest, resident: Resident) -> HttpResponse:
    person = Person.objects.in_scope(resident).get()
    field = request.POST.get("field") or request.GET.get("field") or "residence_address"
    values = {"field": field, "value": "", "note": ""}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values.update(value=request.POST.get("value", ""), note=request.POST.get("note", ""))
        try:
            made = corrections.ask(resident, field, values["value"], values["note"])
        except ValidationError as error:
            errors = error.message_dict
        else:
            return redirect("residents:correction_detail", pk=made.pk)
    fields = [
        {
            "key": key,
            "label": label,
            "current": corrections.shown_value(person, key),
            "choices": corrections.CHOICES.get(key, ()),
        }
        for key, label in corrections.FIELDS.items()
    ]
    chosen = next((f for f in fields if f["key"] == field), fields[0])
    return render(
        request,
        "residents/corrections_new.html",
        {
            "fields": fields,
            "chosen": chosen,
            "values": values,
            "errors": errors,
            "police_fields": corrections.POLICE_FIELDS,
            "note_max": corrections.NOTE_MAX,
        },
        status=400 if errors else 200,
    )
