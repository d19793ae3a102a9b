"""The strings the field app's certificate check (static/field/verify.js) shows, translated on
the server: JavaScript has no gettext here, so the shell renders them into its JSON block of
strings (views.STRINGS merges this dict). ``%(name)s`` placeholders are filled in by the
script (as app.js does); a translation must keep them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

VERIFY_STRINGS = {
    "verify_valid": _("Verified offline; it will be recorded when online."),
    "verify_expired": _("The certificate expired after %(date)s."),
    "verify_invalid": _("The signature does not match: the code was altered or damaged."),
    "verify_unknown_key": _(
        "Issued by a node this phone does not know: it will be checked when online."
    ),
    "verify_unsupported": _(
        "Signed with SM2, which the phone cannot check: it will be checked when online."
    ),
    "verify_malformed": _("This is not a certificate code."),
    "verify_not_found": _("No QR code found in the picture: try again closer, with more light."),
    "verify_camera_refused": _(
        "The camera cannot be used here: take a photo, paste the code or type the number."
    ),
    "verify_camera_looking": _("Hold the certificate's QR code inside the frame."),
    "verify_number_bad": _("A certificate number looks like 330106002-2026-000001."),
    "verify_number_ready": _("Certificate number %(number)s: it will be checked when online."),
    "verify_saved": _("Verification saved: waiting to send."),
    "verify_storage_full": _("The phone's storage is full: the verification was not saved."),
    "verify_not_checked": _("The code could not be checked on this phone: %(error)s"),
    "verify_not_saved": _("The verification was not saved: %(error)s"),
    "verify_no_person": _("Not one of my grid's people"),
    "verify_number_label": _("Certificate number"),
    "verify_name_label": _("Holder"),
    "verify_id_label": _("ID number"),
    "verify_until_label": _("Valid until"),
    "verify_unchecked": _("(not checked yet)"),
}
