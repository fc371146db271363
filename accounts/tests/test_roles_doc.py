"""The role matrix in docs/roles.md is the code's table (accounts/roles.py, `GRANTS`): a grant or an
action changed in one place fails here until the other says the same; the model's roles are the table's."""
from __future__ import annotations

from pathlib import Path

from accounts import roles
from accounts.models import Membership

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


def roles_matrix() -> str:
    head = "| action | " + " | ".join(f"`{role}`" for role in roles.ROLES) + " |"
    rule = "|---|" + "---|" * len(roles.ROLES)
    rows = [f"| `{action}` | " + " | ".join("✓" if granted[role] else " " for role in roles.ROLES) + " |"
            for action, granted in roles.roles_table()]
    return "\n".join([head, rule, *rows])


def test_the_documented_matrix_is_the_code_table():
    expected = roles_matrix()
    assert expected in DOC.read_text(encoding="utf-8"), f"docs/roles.md should hold:\n{expected}"


def test_the_membership_roles_are_the_table_roles():
    assert set(Membership.Role.values) == set(roles.ROLES)


def test_every_kind_has_an_operate_action_and_the_owner_holds_every_action():
    assert {roles.operate(kind) for kind in roles.ops.ALL_KINDS} <= set(roles.GRANTS)
    assert all(roles.OWNER in granted for granted in roles.GRANTS.values())
    assert all(granted for granted in roles.GRANTS.values())
