"""Agents and groups: validation and the one-string key (inverse functional identifier) of each."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from xapi.lrs import formats
from xapi.lrs.exceptions import BadRequest

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = {"objectType", "name", *IFIS}
_GROUP_KEYS = {"objectType", "name", "member", *IFIS}


def _require_object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{path} must be a JSON object")
    return value


def _check_ifi(agent: dict[str, Any], path: str) -> int:
    present = [key for key in IFIS if key in agent]
    for key in present:
        value = agent[key]
        if key == "mbox" and not formats.is_mailto(value):
            raise BadRequest(f"{path}.mbox must be a mailto: IRI")
        if key == "mbox_sha1sum" and not formats.is_sha1(value):
            raise BadRequest(f"{path}.mbox_sha1sum must be 40 hex digits")
        if key == "openid" and not formats.is_iri(value):
            raise BadRequest(f"{path}.openid must be an IRI")
        if key == "account":
            _check_account(value, f"{path}.account")
    return len(present)


def _check_account(account: Any, path: str) -> None:
    account = _require_object(account, path)
    unknown = set(account) - {"homePage", "name"}
    if unknown:
        raise BadRequest(f"{path} has unknown properties {sorted(unknown)}")
    if not formats.is_iri(account.get("homePage")):
        raise BadRequest(f"{path}.homePage must be an IRL")
    if not isinstance(account.get("name"), str):
        raise BadRequest(f"{path}.name must be a string")


def check_agent(value: Any, path: str, *, object_type_required: bool = False) -> None:
    """Validate an Agent: exactly one IFI, known properties only."""
    agent = _require_object(value, path)
    if object_type_required and agent.get("objectType") != "Agent":
        raise BadRequest(f"{path}.objectType must be 'Agent'")
    if agent.get("objectType", "Agent") != "Agent":
        raise BadRequest(f"{path}.objectType must be 'Agent'")
    unknown = set(agent) - _AGENT_KEYS
    if unknown:
        raise BadRequest(f"{path} has unknown properties {sorted(unknown)}")
    if "name" in agent and not isinstance(agent["name"], str):
        raise BadRequest(f"{path}.name must be a string")
    if _check_ifi(agent, path) != 1:
        raise BadRequest(f"{path} must have exactly one inverse functional identifier")


def check_group(value: Any, path: str) -> None:
    """Validate a Group: anonymous with members, or identified by exactly one IFI."""
    group = _require_object(value, path)
    if group.get("objectType") != "Group":
        raise BadRequest(f"{path}.objectType must be 'Group'")
    unknown = set(group) - _GROUP_KEYS
    if unknown:
        raise BadRequest(f"{path} has unknown properties {sorted(unknown)}")
    if "name" in group and not isinstance(group["name"], str):
        raise BadRequest(f"{path}.name must be a string")
    ifis = _check_ifi(group, path)
    if ifis > 1:
        raise BadRequest(f"{path} must not have more than one inverse functional identifier")
    members = group.get("member")
    if ifis == 0 and members is None:
        raise BadRequest(f"{path}: an anonymous group needs a member list")
    if members is not None:
        if not isinstance(members, list):
            raise BadRequest(f"{path}.member must be an array")
        if ifis == 0 and not members:
            raise BadRequest(f"{path}: an anonymous group needs at least one member")
        for index, member in enumerate(members):
            check_agent(member, f"{path}.member[{index}]")


def check_actor(value: Any, path: str) -> None:
    """Validate an Agent or Group."""
    actor = _require_object(value, path)
    if actor.get("objectType") == "Group":
        check_group(actor, path)
    else:
        check_agent(actor, path)


def agent_key(agent: dict[str, Any]) -> str | None:
    """The IFI of an agent or identified group as one string; None for anonymous groups."""
    if "mbox" in agent:
        return "mbox:" + str(agent["mbox"]).lower()
    if "mbox_sha1sum" in agent:
        return "sha1:" + str(agent["mbox_sha1sum"]).lower()
    if "openid" in agent:
        return "openid:" + str(agent["openid"])
    account = agent.get("account")
    if isinstance(account, dict):
        home, name = account.get("homePage"), account.get("name")
        if isinstance(home, str) and isinstance(name, str):
            return _account_key(home, name)
        return "account:" + json.dumps([home, name])
    return None


@lru_cache(maxsize=4096)
def _account_key(home: str, name: str) -> str:
    # Batches repeat the same learners and the same authority.
    if _plain(home) and _plain(name):  # what json.dumps writes, without its encoder's overhead
        return f'account:["{home}", "{name}"]'
    return "account:" + json.dumps([home, name])


def _plain(text: str) -> bool:
    """True when json.dumps writes `text` as it is between quotes (no escapes needed)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def anonymous_group_key(group: dict[str, Any]) -> str:
    """A stable key for an anonymous group: its sorted member keys."""
    members = sorted(agent_key(member) or "" for member in group.get("member", []))
    return "group:" + json.dumps(members)


def actor_key(actor: dict[str, Any]) -> str:
    """Key for the actor column (anonymous groups keyed by their members)."""
    return agent_key(actor) or anonymous_group_key(actor)


def parse_agent_param(raw: str | None, name: str = "agent") -> dict[str, Any]:
    """Parse and validate an `agent` query parameter (JSON Agent or identified Group)."""
    if raw is None:
        raise BadRequest(f"the {name} parameter is required")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"the {name} parameter is not valid JSON") from exc
    check_actor(value, name)
    if agent_key(value) is None:
        raise BadRequest(f"the {name} parameter must be identified by an IFI")
    return dict(value)


def person(agent: dict[str, Any]) -> dict[str, Any]:
    """The Person object the Agents resource returns for an agent."""
    result: dict[str, Any] = {"objectType": "Person"}
    if "name" in agent:
        result["name"] = [agent["name"]]
    for key in IFIS:
        if key in agent:
            result[key] = [agent[key]]
    return result
