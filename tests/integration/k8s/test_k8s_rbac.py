"""The shipped Role against what the code calls: deploy/rbac.yaml and runtime/kubernetes/permissions.py agree.

The other half is in every emulator test: the emulator records the (verb, group,
resource) of each request the code sends, and the ``cluster`` fixture fails a test
whose code called something the permissions table does not declare. Deploying
under the shipped Role, enforced as a real API server would, is in
test_k8s_endpoints.py.
"""

from __future__ import annotations

from rbac_rules import shipped_role

from runtime.kubernetes.permissions import NOT_GRANTED, PERMISSIONS


def test_the_shipped_role_grants_every_permission_the_code_declares_and_nothing_else():
    role = shipped_role()
    declared = {(verb, p.group, p.resource) for p in PERMISSIONS for verb in p.verbs}

    assert sorted(t for t in declared if not role.allows(*t)) == []
    assert sorted(role.triples() - declared) == []  # every rule is used by something
    assert not any(role.allows(verb, p.group, p.resource) for p in NOT_GRANTED for verb in p.verbs)
