"""The forms of the assistance pages: what to ask, and the answer. Every rule is
``exchange.assistance``'s; the forms only offer the choices."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import AssistanceFinding, AssistanceQuestion, AssistanceUrgency


class AskForm(forms.Form):
    question = forms.ChoiceField(
        label=_("What to verify"), choices=AssistanceQuestion.choices, widget=forms.RadioSelect
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=AssistanceUrgency.choices,
        widget=forms.RadioSelect,
        initial=AssistanceUrgency.NORMAL,
    )


class AnswerForm(forms.Form):
    finding = forms.ChoiceField(
        label=_("Finding"), choices=AssistanceFinding.choices, widget=forms.RadioSelect
    )
    answer = forms.CharField(
        label=_("Answer"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was found, in a sentence or two: only what the question asks."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
