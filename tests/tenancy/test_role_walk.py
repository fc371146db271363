"""The role-matrix walk (issue 20, item 2): every route of the URL conf, every method, every role.

The expectation comes from the role matrix in code (accounts/roles.py, `GRANTS`) and the action the
route's view declares for the method (`role_actions`), never from a hand-written status: a member
whose role holds the action must not be refused (no 403, and never 401/404/500: the object is their
organization's), a member whose role lacks it gets 403 PERMISSION_DENIED and nothing of X changes.
A route that touches no organization (`roles.NO_ORGANIZATION`: public, the caller's own account,
staff only) must answer every role alike. A method without a declared action fails, and so does a
view naming an action of the table without checking it through `RoleRequired`.

The bodies, queries and path values are those of the tenant matrix (tests/tenancy/matrix.py), which
pass validation, so the answer is about the role; the callers are tests/tenancy/world.py's members of X.
"""
from __future__ import annotations

from typing import Any

import pytest

from accounts import roles
from accounts.permissions import RoleRequired
from tests.tenancy.matrix import MATRIX
from tests.tenancy.routes import WRITE_METHODS, Route, api_routes
from tests.tenancy.test_tenant_matrix import _call, _error_code
from tests.tenancy.world import World
from tokens.standards import operations as ops

ROUTES = {route.name: route for route in api_routes()}
CASES = [(name, method) for name, route in ROUTES.items() for method in route.methods]

# Routes served by views that are not the project's (drf-spectacular, the JSON 404): declared here.
FOREIGN_VIEWS = {"schema": roles.PUBLIC, "swagger-ui": roles.PUBLIC, "api-not-found": roles.PUBLIC}


def _view_class(route: Route) -> Any:
    return getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)


def declared_action(route: Route, method: str, *, kind: str) -> str | None:
    """The action the route's view declares for `method` (`{kind}`: the view's kind, else `kind`)."""
    if route.name in FOREIGN_VIEWS:
        return FOREIGN_VIEWS[route.name]
    view = _view_class(route)
    action = (getattr(view, "role_actions", None) or {}).get(method)
    if action is None:
        return None
    return action.format(kind=getattr(view, "kind", "") or kind) if "{kind}" in action else action


def test_every_route_declares_a_known_action_for_every_method_and_checks_it_with_the_one_class():
    problems = []
    for name, method in CASES:
        route = ROUTES[name]
        action = declared_action(route, method, kind="transfer")
        if action is None:
            problems.append(f"{method.upper()} {name}: no action in `role_actions`")
        elif action not in roles.GRANTS and action not in roles.NO_ORGANIZATION:
            problems.append(f"{method.upper()} {name}: {action!r} is not in the role matrix")
        elif action in roles.GRANTS and RoleRequired not in getattr(_view_class(route), "permission_classes", ()):
            problems.append(f"{method.upper()} {name}: {action} is not checked by RoleRequired")
    assert not problems, "\n".join(problems)


def test_the_walk_covers_every_action_with_a_route_except_those_still_without_endpoints():
    walked = {declared_action(ROUTES[n], m, kind="transfer") for n, m in CASES}
    walked |= {roles.operate(kind) for kind in ops.KINDS}  # one create route per kind
    walked |= {roles.operate(kind) for kind in ops.SYSTEM_KINDS}  # cancel/retry name the operation's kind
    not_yet: set[str] = set()  # every action of the table has a route
    assert set(roles.GRANTS) - walked <= not_yet


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{m.upper()} {n}" for n, m in CASES])
def test_role_matrix_walk(world: World, name: str, method: str):
    route, call = ROUTES[name], MATRIX[name][method]
    operation_kind = "transfer"  # X's operation (tests/tenancy/world.py)
    action = declared_action(route, method, kind=operation_kind)
    assert action is not None, f"{method.upper()} {name} declares no role action"
    problems, answers = [], {}
    for role in roles.ROLES:
        objects = world.objects_new()
        before = world.fingerprint()
        response = _call(world.clients[role], route, method, call, objects)
        status, code = response.status_code, _error_code(response)
        answers[role] = (status, code)
        where = f"{method.upper()} {name} ({action}) as {role}: {status} {code}"
        if status >= 500:
            problems.append(f"{where} {response.content[:300]!r}")
        elif action in roles.NO_ORGANIZATION:
            continue
        elif roles.role_allows(role, action):
            if status in (401, 403, 404):
                problems.append(f"{where}, but the matrix grants {action} to {role}")
        elif (status, code) != (403, "PERMISSION_DENIED"):
            problems.append(f"{where}, but the matrix refuses {action} to {role} (403 PERMISSION_DENIED)")
        elif method in WRITE_METHODS and world.fingerprint() != before:
            problems.append(f"{where}: refused but changed organization X's objects")
    if action in roles.NO_ORGANIZATION and len(set(answers.values())) != 1:
        problems.append(f"{method.upper()} {name} ({action}) touches no organization but answers roles "
                        f"differently: {answers}")
    assert not problems, "\n".join(problems)
