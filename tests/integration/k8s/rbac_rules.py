"""RBAC as the API server applies it, for the emulator: a Role's rules, and the permission a request needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def shipped_role() -> "Rules":
    """The Role in deploy/rbac.yaml."""
    for document in yaml.safe_load_all((ROOT / "deploy" / "rbac.yaml").read_text()):
        if document and document.get("kind") == "Role":
            return Rules(document["rules"])
    raise AssertionError("deploy/rbac.yaml has no Role")


class Rules:
    def __init__(self, rules: list[dict[str, Any]]) -> None:
        self.rules = rules

    def allows(self, verb: str, group: str, resource: str) -> bool:
        return any(verb in rule.get("verbs", []) and group in rule.get("apiGroups", [])
                   and resource in rule.get("resources", []) for rule in self.rules)

    def without(self, verb: str, group: str, resource: str) -> "Rules":
        """These rules less one verb on one resource (a Role missing that permission)."""
        rules = []
        for rule in self.rules:
            if group in rule.get("apiGroups", []) and resource in rule.get("resources", []):
                rest = [r for r in rule["resources"] if r != resource]
                if rest:
                    rules.append({**rule, "resources": rest})
                rules.append({**rule, "resources": [resource], "verbs": [v for v in rule["verbs"] if v != verb]})
            else:
                rules.append(rule)
        return Rules(rules)

    def triples(self) -> set[tuple[str, str, str]]:
        return {(verb, group, resource) for rule in self.rules for verb in rule["verbs"]
                for group in rule["apiGroups"] for resource in rule["resources"]}


def needed(method: str, group: str, plural: str, subresource: str | None, name: str | None,
           params: dict[str, str]) -> tuple[str, str, str]:
    """(verb, group, resource[/subresource]) a request needs, as the API server's authorizer names them."""
    if method == "GET":
        verb = "get" if name else ("watch" if params.get("watch") in ("true", "1") else "list")
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = {"POST": "create", "PATCH": "patch", "PUT": "update"}[method]
    return verb, group, plural + (f"/{subresource}" if subresource else "")
