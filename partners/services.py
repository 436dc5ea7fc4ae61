"""Every write to the partner tree and its users. Each change is audited (who, what before and
after, why) in its own transaction, through common.audit.

The tree is kept as a materialised path of codes ("north/north-shop/"), so a partner's whole
subtree is one prefix filter; a change of the tree's shape (a new partner, a move) rewrites
paths, so those changes take one tree-wide lock and run one at a time.
"""

from __future__ import annotations

import re
import zlib
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from common.audit import audit_record
from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.parsing import choice_parse, reason_parse, text_parse
from common.roles import BACKOFFICE, CONSOLE, Role
from partners.models import Partner, PartnerUser

if TYPE_CHECKING:
    from crm.models import User

CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_MAX = Partner._meta.get_field("code").max_length or 30
NAME_MAX = Partner._meta.get_field("name").max_length or 200
PATH_MAX = Partner._meta.get_field("path").max_length or 255
PERSON_NAME_MAX = 150
OPERATOR_ROLES = frozenset({Role.CSR, Role.SUPERVISOR, Role.ADMIN})
# The key of the PostgreSQL advisory lock that serialises changes to the tree's shape.
TREE_LOCK_KEY = zlib.crc32(b"partners.tree")


def _tree_lock() -> None:
    """Take the tree-wide lock until the transaction ends.

    A move checks that its new parent is not inside the moved subtree, then rewrites paths.
    Two moves that each pass that check against the tree as it was (A under B's child while B
    goes under A's child) would together make a cycle; row locks on the partners named cannot
    see that, so every change of shape waits for the one before it. Moves and new partners are
    rare back-office acts, so waiting costs nothing. SQLite runs one writer at a time anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])


def _locked(partner: Partner) -> Partner:
    """The partner's row as it is now, locked until the transaction ends."""
    return (
        Partner.objects.select_for_update(of=("self",)).select_related("parent").get(pk=partner.pk)
    )


def _code_parse(raw: str | None, errors: FieldErrors) -> str:
    code = (raw or "").strip().lower()
    if not code:
        errors.add("code", "Give the partner a code, e.g. north-shop.")
    elif len(code) > CODE_MAX:
        errors.add("code", f"A code has at most {CODE_MAX} characters.")
    elif not CODE_PATTERN.match(code):
        errors.add("code", "Use lower-case letters, digits and single hyphens, e.g. north-shop.")
    elif Partner.objects.filter(code=code).exists():
        errors.add("code", f"Another partner already has the code {code!r}.")
    return code


def _name_parse(raw: str | None, errors: FieldErrors) -> str:
    return text_parse(raw, "name", errors, limit=NAME_MAX, missing="Name the partner.")


def _kind_parse(raw: str | None, errors: FieldErrors) -> str:
    return choice_parse(raw or "", "kind", errors, Partner.Kind, "partner kind")


def _parent_check(parent: Partner, errors: FieldErrors) -> None:
    if parent.status != Partner.Status.ACTIVE:
        errors.add(
            "parent",
            f"{parent.name} is {parent.get_status_display().lower()}; "
            "partners go only under an active partner.",
        )


def _tree_state(partner: Partner) -> dict[str, Any]:
    """What the audit log keeps of a partner's place in the tree (codes never change; names
    may, so the parent is named by its code)."""
    return {"parent": partner.parent.code if partner.parent else None, "path": partner.path}


@transaction.atomic
def partner_create(
    *,
    actor: User,
    code: str,
    name: str,
    kind: str = Partner.Kind.RESELLER,
    parent: Partner | None = None,
) -> Partner:
    """Create a partner under `parent` (an active partner), or at the top of the tree.

    Its path is its parent's path plus its own code, which makes its subtree one prefix query;
    the code is therefore fixed for good (lower-case, digits, hyphens: it sits in every path
    below it).
    """
    _tree_lock()
    errors = FieldErrors()
    code = _code_parse(code, errors)
    name = _name_parse(name, errors)
    kind = _kind_parse(kind, errors)
    if parent is not None:
        parent = _locked(parent)
        _parent_check(parent, errors)
    path = f"{parent.path if parent else ''}{code}/"
    if code and len(path) > PATH_MAX:
        errors.add("parent", "The tree is too deep here: choose a parent higher up.")
    errors.raise_if_any("The partner was not created.")
    partner = Partner.objects.create(code=code, name=name, kind=kind, parent=parent, path=path)
    created = {"code": code, "name": name, "kind": kind, "status": partner.status}
    if parent is not None:
        created["parent"] = parent.code
    audit_record(
        actor=actor,
        instance=partner,
        action="created",
        changes={field: [None, value] for field, value in created.items()},
    )
    return partner


@transaction.atomic
def partner_update(*, partner: Partner, actor: User, name: str, kind: str) -> Partner:
    """Rename a partner or change its kind. Its code and place in the tree stay (a move is
    partner_move)."""
    partner = _locked(partner)
    errors = FieldErrors()
    values = {"name": _name_parse(name, errors), "kind": _kind_parse(kind, errors)}
    errors.raise_if_any("The partner was not changed.")
    before = {field: getattr(partner, field) for field in values}
    changes = {
        field: [before[field], values[field]] for field in values if before[field] != values[field]
    }
    if not changes:
        return partner
    for field, value in values.items():
        setattr(partner, field, value)
    partner.save(update_fields=[*values, "updated_at"])
    audit_record(actor=actor, instance=partner, action="updated", changes=changes)
    return partner


@transaction.atomic
def partner_move(
    *, partner: Partner, actor: User, parent: Partner | None, reason: str = ""
) -> Partner:
    """Put a partner, with everything below it, under another parent (or at the top).

    Who sees whose customers follows the path, so the partner's path and those of its whole
    subtree are rewritten together, in one UPDATE, under the tree-wide lock: no reader ever
    sees half a subtree moved, and no two moves can build a cycle between them. A partner
    cannot go under itself or anything below it, nor under a suspended partner.
    """
    _tree_lock()
    partner = _locked(partner)
    target = _locked(parent) if parent is not None else None
    errors = FieldErrors()
    reason = text_parse(reason, "reason", errors, limit=200)
    if target is None:
        if partner.parent_id is None:
            errors.add("parent", f"{partner.name} is already at the top of the tree.")
    elif target.path.startswith(partner.path):
        where = "itself" if target.pk == partner.pk else f"{target.name}, which is below it"
        errors.add("parent", f"{partner.name} cannot go under {where}.")
    elif target.pk == partner.parent_id:
        errors.add("parent", f"{partner.name} is already under {target.name}.")
    else:
        _parent_check(target, errors)
    old_path = partner.path
    new_path = f"{target.path if target else ''}{partner.code}/"
    if not errors.fields:
        deepest = max(
            len(p)
            for p in Partner.objects.filter(path__startswith=old_path).values_list(
                "path", flat=True
            )
        )
        if deepest - len(old_path) + len(new_path) > PATH_MAX:
            errors.add("parent", "The tree would be too deep there: choose a parent higher up.")
    errors.raise_if_any(f"{partner.name} was not moved.")
    before = _tree_state(partner)
    now = timezone.now()
    moved = Partner.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)), updated_at=now
    )
    Partner.objects.filter(pk=partner.pk).update(parent=target, updated_at=now)
    partner = Partner.objects.select_related("parent").get(pk=partner.pk)
    changes: dict[str, list[Any]] = {
        field: [before[field], after]
        for field, after in _tree_state(partner).items()
        if before[field] != after
    }
    if moved > 1:
        changes["sub_partners_moved"] = [None, moved - 1]
    audit_record(actor=actor, instance=partner, action="moved", changes=changes, reason=reason)
    return partner


def _status_change(*, partner: Partner, actor: User, reason: str, new: str, action: str) -> Partner:
    reason = reason_parse(reason)
    partner = _locked(partner)
    old = partner.status
    if new not in Partner.TRANSITIONS[old]:
        raise InvalidTransition(
            f"{partner.name} is already {partner.get_status_display().lower()}."
        )
    partner.status = new
    partner.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor, instance=partner, action=action, changes={"status": [old, new]}, reason=reason
    )
    return partner


@transaction.atomic
def partner_suspend(*, partner: Partner, actor: User, reason: str) -> Partner:
    """Stop a partner from selling (unpaid settlement, fraud, contract ended). Its users keep
    their sign-in and see their customers, but the inventory gives a suspended partner no
    stock: nothing is allocated to it, and nothing is sold from its shelf. Partners below it
    keep their own status."""
    return _status_change(
        partner=partner,
        actor=actor,
        reason=reason,
        new=Partner.Status.SUSPENDED,
        action="suspended",
    )


@transaction.atomic
def partner_reactivate(*, partner: Partner, actor: User, reason: str) -> Partner:
    """Let a suspended partner sell again."""
    return _status_change(
        partner=partner, actor=actor, reason=reason, new=Partner.Status.ACTIVE, action="reactivated"
    )


# --- partner users ------------------------------------------------------------------------------


def _is_operator_staff(user: Any) -> bool:
    """Operator staff (CSRs, supervisors, back-office admins, superusers) and API keys' machine
    identities: never a partner's user, so no reseller login ever opens an operator's tools."""
    if user.is_staff or user.is_superuser or getattr(user, "is_machine", False):
        return True
    if user.groups.filter(name__in=[str(role) for role in OPERATOR_ROLES]).exists():
        return True
    return bool(user.has_perm(CONSOLE.permission) or user.has_perm(BACKOFFICE.permission))


def _reseller_group() -> Group:
    group, _ = Group.objects.get_or_create(name=Role.RESELLER.value)
    return group


@transaction.atomic
def partner_user_add(
    *, partner: Partner, actor: User, email: str, first_name: str = "", last_name: str = ""
) -> PartnerUser:
    """Give a person a sign-in to the partner portal as `partner`'s staff.

    A new email address makes a new login (no password: they set one through the password
    reset page); an existing one is linked as it is. Either way they get the Reseller role and
    never staff status. Refused for operator staff and for anyone already a user of a partner.
    """
    user_model = get_user_model()
    errors = FieldErrors()
    email = (email or "").strip().lower()
    if not email:
        errors.add("email", "Give the person's email address; it is their sign-in.")
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors.add("email", f"{email!r} is not an email address.")
    first_name = text_parse(first_name, "first_name", errors, limit=PERSON_NAME_MAX)
    last_name = text_parse(last_name, "last_name", errors, limit=PERSON_NAME_MAX)
    errors.raise_if_any("Nobody was added.")
    partner = _locked(partner)
    user = user_model.objects.select_for_update().filter(email__iexact=email).first()
    if user is None:
        if not first_name:
            errors.add("first_name", "A new login needs the person's first name.")
        if not last_name:
            errors.add("last_name", "A new login needs the person's last name.")
        errors.raise_if_any("Nobody was added.")
        try:
            with transaction.atomic():
                user = user_model.objects.create_user(
                    email=email, password=None, first_name=first_name, last_name=last_name
                )
        except IntegrityError as exc:  # the same new address added elsewhere a moment ago
            message = f"A login for {email} was created a moment ago; add it again to link it."
            raise ApplicationError(message, code="conflict", fields={"email": [message]}) from exc
        created = True
    else:
        created = False
        membership = PartnerUser.objects.filter(user=user, is_active=True).select_related("partner")
        current = membership.first()
        if _is_operator_staff(user):
            errors.add(
                "email", f"{email} is operator staff; partner users have logins of their own."
            )
        elif not user.is_active:
            errors.add("email", f"The login {email} is deactivated.")
        elif current is not None and current.partner_id == partner.pk:
            errors.add("email", f"{email} is already a user of {partner.name}.")
        elif current is not None:
            errors.add("email", f"{email} is already a user of {current.partner.name}.")
        errors.raise_if_any("Nobody was added.")
    membership_row, _ = PartnerUser.objects.update_or_create(
        user=user, defaults={"partner": partner, "is_active": True}
    )
    user.groups.add(_reseller_group())
    changes: dict[str, list[Any]] = {"user": [None, email]}
    if created:
        changes["login"] = [None, "created"]
    audit_record(actor=actor, instance=partner, action="user added", changes=changes)
    return membership_row


@transaction.atomic
def partner_user_remove(
    *, partner: Partner, actor: User, user: User, reason: str = ""
) -> PartnerUser:
    """Take a user off a partner's staff: the membership is kept, inactive, for the record;
    the user loses the link to the partner and the Reseller role (so the partner portal, and
    every customer of the partner, with it). Their login stays, for any other role they hold."""
    errors = FieldErrors()
    reason = text_parse(reason, "reason", errors, limit=200)
    errors.raise_if_any("Nobody was removed.")
    partner = _locked(partner)
    membership = (
        PartnerUser.objects.select_for_update()
        .select_related("user")
        .filter(user=user, partner=partner, is_active=True)
        .first()
    )
    if membership is None:
        raise ApplicationError(f"{user.email} is not a user of {partner.name}.", code="not_found")
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    membership.user.groups.remove(_reseller_group())
    audit_record(
        actor=actor,
        instance=partner,
        action="user removed",
        changes={"user": [membership.user.email, None]},
        reason=reason,
    )
    return membership
