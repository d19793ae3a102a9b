"""Who acts: a staff account, the server operator at the command line, a peer node, or the
resident herself (issue 19: she reads her own file, nothing else).

Every service function takes ``acting_user`` (an :data:`Actor`), every scoped read goes
through ``Model.objects.in_scope(actor)`` and every permission check through
:func:`liudong.authorize.authorize`. Before this module ``None`` meant "the operator, sees
everything" in some places and "refused" in others; now the operator is an explicit
:class:`Operator` and ``None`` is never anyone.

This module owns the actor types and the questions every caller asks of them (whose region,
which account to write into ``created_by``); it imports no app so that base.py and every app
may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, Union

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from liudong.accounts.models import User


@dataclass(frozen=True)
class Operator:
    """The server's operator at the command line (``liudong …`` without ``--user``).

    Not a staff account: no role, no row in the user table, nothing to write into
    ``created_by``. It may do what the command allows inside the region under ``prefix``
    ("" is the whole tree). Audit entries name the operating-system user
    (``liudong.audit.context``). It has no ``region`` object: code that needs one (a default
    organiser, a default region) asks the operator to name it.
    """

    prefix: str = ""

    # Read like an anonymous caller by code that knows only accounts (the audit log
    # records the OS user; ``can()`` refuses): the operator's reach comes from here only.
    is_authenticated = False
    is_active = True
    role = ""
    pk = None
    username = ""

    @property
    def region_id(self) -> str:
        return self.prefix

    def __str__(self) -> str:
        return f"operator({self.prefix or 'all'})"


@dataclass(frozen=True)
class PeerNode:
    """Another jurisdiction's node, trusted for the regions under ``region_prefix``
    (``liudong.exchange.models.Peer``): it sees and touches only what lies there."""

    region_prefix: str

    is_authenticated = False
    is_active = True
    role = "node"
    pk = None
    username = ""

    @property
    def region_id(self) -> str:
        return self.region_prefix

    def __str__(self) -> str:
        return f"peer({self.region_prefix})"


@dataclass(frozen=True)
class Resident:
    """A floating resident signed in as herself (``liudong.residents``): she sees her own
    file and the records about her, nothing else. She has no region (``reach`` gives her
    nothing, so every scoped read that does not know her gives her nothing); a scoped model
    lets her read its rows about her by naming the path to her file in ``resident_path``
    (``ScopedQuerySet.in_scope``). Never a staff account: ``can()`` refuses her every
    capability and services that change data refuse her."""

    person_id: int

    is_authenticated = False
    is_active = True
    role = "resident"
    pk = None
    username = ""
    region_id = None

    def __str__(self) -> str:
        return f"resident({self.person_id})"


#: The operator with the whole tree in reach (commands without ``--user``, demo data, the
#: exchange applying an accepted message, importers run as the operator).
OPERATOR = Operator()

Actor: TypeAlias = Union["User", Operator, PeerNode]
#: Whoever may ask: an actor, an anonymous web caller, or nobody (None). Scope and
#: authorize() accept it and give the last two nothing.
Caller: TypeAlias = Union["User", Operator, PeerNode, Resident, "AnonymousUser", None]


def accountable(actor: Caller) -> User:
    """The staff account that signs a step kept under its name (a report submitted, a
    sample drawn), else PermissionDenied: the operator and a peer node sign nothing."""
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext as _

    account = account_of(actor)
    if account is None:
        raise PermissionDenied(_("Only a staff account may do this."))
    return account


def is_operator(actor: object) -> bool:
    return isinstance(actor, Operator)


def account_of(actor: Caller) -> User | None:
    """The staff account to record as author (``created_by``, ``issued_by``…), or None
    for the operator and a peer node, which have no account row."""
    if actor is None or isinstance(actor, Operator | PeerNode | Resident):
        return None
    if not getattr(actor, "is_authenticated", False):
        return None
    return actor  # type: ignore[return-value]


def reach(actor: Caller) -> str | None:
    """The region prefix an actor may see, or None when it may see nothing
    (nobody, an inactive or anonymous account, an account without a region)."""
    if isinstance(actor, Operator):
        return actor.prefix
    if isinstance(actor, PeerNode):
        return actor.region_prefix or None
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    region = getattr(actor, "region_id", None)
    if not getattr(actor, "is_active", False) or not region:
        return None
    return str(region)


def region_of(actor: Actor) -> str:
    """The region code ``actor`` acts for: an account's own region, the operator's or a
    peer's prefix. An account without a region is refused as can() and authorize() refuse
    it; code that reads the region to compare codes asks here so that it never compares
    with None."""
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext as _

    code = actor.region_id
    if code is None:
        raise PermissionDenied(_("Every staff account needs a region."))
    return code
