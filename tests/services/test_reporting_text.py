"""What a team change or listing says is written once, in the reporting service; the
adapters only name people (a Slack mention, an escaped Teams name) and lay lines out."""

from __future__ import annotations

from dealcoach.services.reporting import ListingText, Member, Team, TeamChange, TeamListing

MIA, ROB, ANN = Member("UMIA", "Mia"), Member("UROB", "Rob"), Member("UANN", "Ann")


def _who(member: Member) -> str:
    return f"[{member.name}]"


def test_an_admin_sees_every_team_under_a_title() -> None:
    listing = TeamListing(is_admin=True, teams=(Team(MIA, (ROB, ANN)),))
    assert listing.describe("en", _who) == ListingText(
        title="Teams in this workspace", lines=("[Mia]: [Rob], [Ann]",)
    )
    assert TeamListing(is_admin=True).describe("nl", _who).empty == (
        "Nog geen teams. Een beheerder stelt ze in met `/dealcoach team add @manager @verkoper…`."
    )


def test_everyone_else_sees_their_own_team_and_manager() -> None:
    listing = TeamListing(is_admin=False, manager=MIA, members=(ANN,))
    assert listing.describe("en", _who) == ListingText(
        lines=("Your team: [Ann]", "Your manager: [Mia]")
    )
    alone = TeamListing(is_admin=False).describe("nl", _who)
    assert alone == ListingText(empty="Je zit nog niet in een team.")


def test_a_change_in_words_one_line_each() -> None:
    change = TeamChange(manager=MIA, added=(ROB,), moved=((ANN, Member("UBOB", "Bob")),))
    assert change.describe("en", _who) == [
        "[Rob] now report to [Mia].",
        "[Ann] moved from [Bob] to [Mia].",
    ]
    assert TeamChange(manager=None).describe("en", _who) == []
