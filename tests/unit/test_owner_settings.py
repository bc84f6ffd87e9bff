"""ICP_OWNERS: one list for every workspace, or lists per workspace; a malformed value is refused
at start with the bad part named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_plain_ids_apply_to_every_workspace() -> None:
    settings = Settings(icp_owners="U1, U2,")
    assert settings.owners_by_team == {}
    assert settings.owners_for("T1") == settings.owners_for("T2") == frozenset({"U1", "U2"})


def test_ids_per_workspace() -> None:
    settings = Settings(icp_owners="T1:U1,U2; T2:U3;")
    assert settings.owners_for("T1") == frozenset({"U1", "U2"})
    assert settings.owners_for("T2") == frozenset({"U3"})
    assert settings.owners_for("T3") == frozenset() and settings.owner_ids == frozenset()


@pytest.mark.parametrize("value", ["T1:U1;U2", "T1:", ":U1", "T1:U1:U2"])
def test_a_malformed_value_names_the_bad_part(value: str) -> None:
    with pytest.raises(ValidationError, match=r"ICP_OWNERS part .* is not TEAM:USER"):
        Settings(icp_owners=value)
