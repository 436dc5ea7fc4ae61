"""Back-office forms of the partner tree: they parse the input; partners.services decides."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from partners.models import Partner
from partners.selectors import partner_depth

# The value of "the top of the tree" among the parent choices (the others are public ids).
TOP = "top"
REASON_HELP = "Kept in the partner's history."


def _parent_choices(partners: Iterable[Partner], *, top: bool) -> list[tuple[str, str]]:
    """Partners in tree order, indented under their parents; `top` offers the top of the tree."""
    choices = [(TOP, "— Top of the tree (no parent) —")] if top else []
    for partner in partners:
        indent = "\u00a0\u00a0\u00a0" * partner_depth(partner)
        choices.append((str(partner.public_id), f"{indent}{partner.name} ({partner.code})"))
    return choices


class _ParentField(forms.ChoiceField):
    """A place in the tree: TOP or a partner's public id, among the choices the view offers."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["error_messages"] = {
            "required": "Choose where the partner goes.",
            "invalid_choice": "Choose one of the places listed; that one is not open to it.",
            **kwargs.get("error_messages", {}),
        }
        super().__init__(**kwargs)


class PartnerForm(forms.Form):
    name = forms.CharField(max_length=200, error_messages={"required": "Name the partner."})
    kind = forms.ChoiceField(choices=Partner.Kind.choices)


class PartnerCreateForm(PartnerForm):
    code = forms.CharField(
        max_length=30,
        help_text="Lower-case letters, digits and hyphens, e.g. north-shop; it never changes.",
        error_messages={"required": "Give the partner a code, e.g. north-shop."},
    )
    parent = _ParentField(
        label="Under",
        initial=TOP,
        help_text="An active partner, or the top of the tree.",
    )

    field_order = ["code", "name", "kind", "parent"]

    def __init__(self, *args: Any, parents: Iterable[Partner], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = _parent_choices(parents, top=True)  # type: ignore[attr-defined]


class PartnerMoveForm(forms.Form):
    parent = _ParentField(
        label="New place",
        help_text="Active partners outside this partner's own subtree.",
    )
    reason = forms.CharField(max_length=200, required=False, help_text=REASON_HELP)

    def __init__(self, *args: Any, targets: Iterable[Partner], top: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Choose…"), *_parent_choices(targets, top=top)]
        self.fields["parent"].choices = choices  # type: ignore[attr-defined]


class PartnerStatusForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        help_text=REASON_HELP,
        error_messages={"required": "Give a reason for the change."},
    )


class PartnerUserAddForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        help_text="Their sign-in. An existing login is linked as it is.",
        error_messages={"required": "Give the person's email address; it is their sign-in."},
    )
    first_name = forms.CharField(max_length=150, required=False, label="First name")
    last_name = forms.CharField(max_length=150, required=False, label="Last name")


class PartnerUserRemoveForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False, help_text=REASON_HELP)
