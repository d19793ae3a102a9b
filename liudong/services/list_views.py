"""The list imports: one upload-preview-confirm page each for help requests, follow-ups,
campaigns and branches, chosen by the URL. Above the sub-domains (it names their
importers); none of them imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.accounts.roles import CHANGE_PEOPLE, RECORD_SERVICES, can
from liudong.services.associations import spreadsheets as association_sheets
from liudong.services.campaigns import spreadsheets as campaign_sheets
from liudong.services.help_requests import spreadsheets as help_sheets
from liudong.services.records import spreadsheets as record_sheets
from liudong.services.views import StaffRequest, column_names, import_page
from liudong.tabular import ImportSummary
from liudong.web.decorators import staff_required


class ListImport(NamedTuple):
    """An import page of a whole list: the ``spreadsheets`` function (taking the file,
    ``acting_user`` and ``commit``), the page's title, the list it returns to, the
    columns it reads, those that find an existing record, and the capability it needs
    besides recording services."""

    importer: Callable[..., ImportSummary]
    subject: str | Promise
    back: str
    columns: dict
    matched_by: str
    capability: str = RECORD_SERVICES


LIST_IMPORTS = {
    # Help requests are a person's own affairs: only roles that see them import them.
    "help": ListImport(
        help_sheets.import_help_requests,
        gettext_lazy("Import help requests"),
        "services:help_list",
        help_sheets.HELP_COLUMNS,
        "编号, 或 公民身份号码 (完整), 类别, 受理日期",
        CHANGE_PEOPLE,
    ),
    "follow_ups": ListImport(
        record_sheets.import_follow_ups,
        gettext_lazy("Import follow-ups"),
        "services:followups",
        record_sheets.FOLLOW_UP_COLUMNS,
        "编号, 或 公民身份号码 (完整), 服务类型, 服务日期, 随访日期",
    ),
    "campaigns": ListImport(
        campaign_sheets.import_campaigns,
        gettext_lazy("Import campaigns"),
        "services:campaigns",
        campaign_sheets.CAMPAIGN_COLUMNS,
        "名称, 开始日期 (组织单位代码)",
    ),
    "branches": ListImport(
        association_sheets.import_branches,
        gettext_lazy("Import association branches"),
        "services:branches",
        association_sheets.BRANCH_COLUMNS,
        "名称, 区划代码",
    ),
}


@staff_required(RECORD_SERVICES)
def list_import(request: StaffRequest, what: str) -> HttpResponse:
    """Upload, preview and confirm one of ``LIST_IMPORTS`` (the URL names which)."""
    spec = LIST_IMPORTS[what]
    if not can(request.user, spec.capability):
        raise PermissionDenied(_("Your role does not allow this page."))
    return import_page(
        request,
        key=what,
        importer=lambda path, commit: spec.importer(path, acting_user=request.user, commit=commit),
        subject=str(spec.subject),
        back=reverse(spec.back),
        columns=column_names(spec.columns),
        note=_(
            "A row changes the record with the same %(key)s, else it adds one. Blank cells "
            "leave a value as it is: a file exported here imports back unchanged."
        )
        % {"key": spec.matched_by},
    )
