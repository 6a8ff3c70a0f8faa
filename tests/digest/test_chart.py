"""The digest's charts (matplotlib, Agg): the 8-week trend and the recommendation mix — valid,
deterministic PNGs with a title, a legend and axis labels in the manager's language, and alt
text; the "helps" rule; and their upload into the Slack digest's thread (through the Web API
stand-in), where a failed or hanging upload neither fails nor doubles the digest."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import select
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.config import Settings
from dealcoach.digest.chart import (
    HEIGHT,
    WIDTH,
    chart_alt_text,
    chart_helps,
    digest_image_png,
    mix_alt_text,
    mix_chart_png,
    mix_figure,
    trend_chart_png,
    trend_figure,
)
from dealcoach.digest.compose import WeekPoint
from dealcoach.digest.delivery import DbRunner, DeliveryReport, send_digests
from dealcoach.slack import notifier as slack_notifier
from dealcoach.slack.app import make_client
from dealcoach.slack.notifier import SlackNotifier
from dealcoach.store import Store
from dealcoach.store.models import DigestRun

from .seed import WEEK, at, person, review, team, two_teams

TOKEN = "xoxb-1234-5678-charttest"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EIGHT = ((3, 1), (0, 0), (5, 4), (2, 1), (8, 2), (1, 1), (4, 2), (6, 3))


def weeks(*points: tuple[int, int]) -> list[WeekPoint]:
    """(reviews, win_win) per week, oldest first, ending at 2026-W46."""
    first = 47 - len(points)
    return [
        WeekPoint(week=f"2026-W{first + i:02d}", reviews=r, win_win=w)
        for i, (r, w) in enumerate(points)
    ]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.size


# --- the images -------------------------------------------------------------------------------


def test_the_trend_chart_is_a_valid_png_of_the_declared_size() -> None:
    data = trend_chart_png(weeks(*EIGHT))
    assert png_size(data) == (WIDTH, HEIGHT) == (800, 400)
    assert len(data) < 80_000


def test_the_charts_are_deterministic_and_follow_their_data() -> None:
    a = weeks(*EIGHT)
    b = weeks(*EIGHT[:-1], (6, 4))
    assert trend_chart_png(a, "en") == trend_chart_png(list(a), "en")
    assert trend_chart_png(a) != trend_chart_png(b)
    assert trend_chart_png(a, "en") != trend_chart_png(a, "nl")  # the words are translated


@pytest.mark.parametrize(
    ("locale", "title", "legend", "axes"),
    [
        (
            "en",
            "Reviews and win-win share, last 8 weeks",
            ["Reviews", "Win-win share"],
            ("Week", "Reviews completed", "Win-win share (%)"),
        ),
        (
            "nl",
            "Reviews en aandeel win-win, laatste 8 weken",
            ["Reviews", "Aandeel win-win"],
            ("Week", "Afgeronde reviews", "Aandeel win-win (%)"),
        ),
    ],
)
def test_the_trend_chart_has_a_title_legend_and_axis_labels_in_the_managers_language(
    locale: str, title: str, legend: list[str], axes: tuple[str, str, str]
) -> None:
    fig = trend_figure(weeks(*EIGHT), locale)
    bars_axis, share_axis = fig.axes
    assert bars_axis.get_title() == title
    assert [t.get_text() for t in bars_axis.get_legend().get_texts()] == legend
    assert (bars_axis.get_xlabel(), bars_axis.get_ylabel(), share_axis.get_ylabel()) == axes
    assert [t.get_text() for t in bars_axis.get_xticklabels()][-1] == "W46"
    assert share_axis.get_ylim()[0] == 0 and share_axis.get_ylim()[1] > 100  # 100 % fits
    heights = [round(p.get_height()) for p in bars_axis.patches]
    assert heights == [r for r, _ in EIGHT]
    share = list(share_axis.lines[0].get_ydata())
    assert share[2] == pytest.approx(80.0) and share[1] != share[1]  # no reviews: a gap (NaN)


def test_the_mix_chart_stacks_the_recommendations_with_the_coachs_names() -> None:
    data = weeks((2, 1), (0, 0), (3, 1))
    mix = [{"pursue": 1, "walk_away": 1}, {}, {"strengthen": 2, "renegotiate": 1}]
    fig = mix_figure(data, mix, "nl")
    (axis,) = fig.axes
    assert axis.get_title() == "Mix van adviezen, laatste 8 weken"
    names = [t.get_text() for t in axis.get_legend().get_texts()]
    assert len(names) == 4 and all(names)
    totals = [0.0, 0.0, 0.0]
    for patch in axis.patches:
        totals[round(patch.get_x() + patch.get_width() / 2)] += patch.get_height()
    assert totals == [2, 0, 3]
    assert png_size(mix_chart_png(data, mix, "en")) == (WIDTH, HEIGHT)
    alt = mix_alt_text(data, mix, "en")
    assert alt.startswith("Recommendations per week, last 8 weeks:") and "W45 0" in alt


def test_the_teams_image_holds_both_charts_and_stays_small() -> None:
    data = digest_image_png(weeks(*EIGHT), [{"pursue": r} for r, _ in EIGHT], "en")
    width, height = png_size(data)
    assert height > width * 0.8  # two charts, one above the other
    assert len(data) < 16_000  # an Adaptive Card travels whole; Teams keeps cards small


@pytest.mark.parametrize(
    ("points", "helps"),
    [
        ([(0, 0)] * 8, False),  # nothing at all
        ([(0, 0)] * 7 + [(5, 2)], False),  # one week: a single bar says nothing a number doesn't
        ([(1, 0)] + [(0, 0)] * 7, False),
        ([(1, 0)] + [(0, 0)] * 6 + [(3, 1)], True),
        ([(2, 1)] * 8, True),
        ([], False),
    ],
)
def test_a_chart_is_attached_only_when_two_weeks_had_reviews(
    points: list[tuple[int, int]], helps: bool
) -> None:
    assert chart_helps(weeks(*points)) is helps


def test_the_alt_text_says_what_the_chart_shows() -> None:
    data = weeks((2, 1), (0, 0), (4, 4))
    assert chart_alt_text(data, "en") == (
        "Last 8 weeks: reviews per week (bars) and win-win share (line). "
        "Reviews W44 2, W45 0, W46 4. Win-win share W44 50%, W45 –, W46 100%."
    )
    assert chart_alt_text(data, "nl").startswith("Afgelopen 8 weken")
    assert chart_alt_text(data, "fr") == chart_alt_text(data, "en")


# --- Slack delivery ---------------------------------------------------------------------------


@pytest.fixture
def web_api() -> Iterator[MockSlackWebApi]:
    with MockSlackWebApi() as api:
        yield api


def _send(store: Store, api: MockSlackWebApi) -> DeliveryReport:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=store.url,
        slack_bot_token=TOKEN,
        slack_api_url=api.url,
        dealcoach_scheduler=False,
    )
    notifier = SlackNotifier(make_client(settings), interval=0.0)
    return asyncio.run(send_digests(DbRunner(store), {"slack": notifier}, week=WEEK))


def _runs(store: Store) -> list[tuple[str, int]]:
    with store.unit_of_work() as uow:
        rows = uow.session.execute(select(DigestRun.status, DigestRun.attempts))
        return sorted((r[0], r[1]) for r in rows)


def test_the_charts_follow_the_digest_in_its_thread(
    store: Store, web_api: MockSlackWebApi
) -> None:
    two_teams(store)  # both managers' teams reviewed in weeks 45 and 46
    report = _send(store, web_api)
    assert sorted(report.sent) == ["UM1", "UM2"] and report.failed == []

    calls = web_api.calls
    posts = {
        c.params["channel"]: (i, c) for i, c in enumerate(calls) if c.method == "chat.postMessage"
    }
    uploads: dict[str, list[dict[str, object]]] = {}
    for upload in web_api.uploads():
        uploads.setdefault(str(upload["channel_id"]), []).append(upload)
    assert set(posts) == set(uploads) == {"UM1", "UM2"}
    for channel, (index, _post) in posts.items():
        trend, mix = uploads[channel]
        for upload in (trend, mix):
            # the thread is the digest message: the stand-in's ts ends in its sequence number
            assert re.fullmatch(rf"\d+\.{index + 1:06d}", str(upload["thread_ts"]))
            assert png_size(upload["content"]) == (WIDTH, HEIGHT)  # type: ignore[arg-type]
            assert int(upload["length"]) == len(upload["content"])  # type: ignore[arg-type]
        done = next(
            i
            for i, c in enumerate(calls)
            if c.method == "files.completeUploadExternal" and c.params["channel_id"] == channel
        )
        assert done > index  # after the digest message
        assert trend["filename"] == "dealcoach-trend-2026-W46.png"
        assert mix["filename"] == "dealcoach-mix-2026-W46.png"
    um1_trend, um1_mix = uploads["UM1"]
    um2_trend, um2_mix = uploads["UM2"]
    assert um1_trend["title"] == "Reviews and win-win share, last 8 weeks · 2026-W46"
    assert um1_mix["title"] == "Recommendation mix, last 8 weeks · 2026-W46"
    assert um2_trend["title"] == "Reviews en aandeel win-win, laatste 8 weken · 2026-W46"
    assert str(um1_trend["alt_txt"]).startswith("Last 8 weeks")
    assert (
        "Reviews W39 0, W40 0, W41 0, W42 0, W43 0, W44 0, W45 1, W46 2."
        in str(um1_trend["alt_txt"])
    )
    assert "W45 1, W46 1." in str(um2_trend["alt_txt"])
    assert str(um2_trend["alt_txt"]).startswith("Afgelopen 8 weken")
    assert str(um2_mix["alt_txt"]).startswith("Adviezen per week")
    assert [c.method for c in calls].count("upload") == 4


def test_no_chart_when_only_one_week_had_reviews(store: Store, web_api: MockSlackWebApi) -> None:
    with store.unit_of_work() as uow:
        m, r = person(uow, "UM9"), person(uow, "UR9")
        team(uow, m, r)
        review(uow, r, "Solo", when=at(WEEK, 2))
        review(uow, r, "Duo", when=at(WEEK, 3))
        uow.commit()
    report = _send(store, web_api)
    assert report.sent == ["UM9"]
    assert len(web_api.calls_to("chat.postMessage")) == 1
    assert web_api.calls_to("files.getUploadURLExternal") == [] and web_api.uploads() == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda api: api.error("files.getUploadURLExternal", "missing_scope", times=10),
        lambda api: api.fail("upload", status=500, times=10),
        lambda api: api.error("files.completeUploadExternal", "not_in_channel", times=10),
    ],
    ids=["no-scope", "upload-5xx", "complete-refused"],
)
def test_a_failed_chart_upload_leaves_one_digest_sent(
    store: Store, web_api: MockSlackWebApi, break_it: object, caplog: pytest.LogCaptureFixture
) -> None:
    two_teams(store)
    break_it(web_api)  # type: ignore[operator]
    first = _send(store, web_api)
    assert sorted(first.sent) == ["UM1", "UM2"] and first.failed == []
    assert _runs(store) == [("sent", 1), ("sent", 1)]
    assert web_api.uploads() == []
    assert "digest chart upload failed" in caplog.text

    again = _send(store, web_api)  # nothing to retry: the digest is what counts
    assert again.sent == [] and sorted(again.skipped) == ["UM1", "UM2"]
    posted = [c.params["channel"] for c in web_api.calls_to("chat.postMessage") if c.status == 200]
    assert sorted(posted) == ["UM1", "UM2"]


def test_a_hanging_chart_upload_is_given_up_and_the_digest_stays_sent(
    store: Store, web_api: MockSlackWebApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_teams(store)
    monkeypatch.setattr(slack_notifier, "CHART_TIMEOUT", 0.3)
    web_api.hang("files.getUploadURLExternal", 2.0, times=2)
    report = _send(store, web_api)
    assert sorted(report.sent) == ["UM1", "UM2"]
    assert _runs(store) == [("sent", 1), ("sent", 1)]
    assert len(web_api.calls_to("chat.postMessage")) == 2 and web_api.uploads() == []
