"""The 8-week trend chart: a valid, deterministic PNG whose bars and share line follow the data,
the "helps" rule, and its upload into the Slack digest's thread (through the Web API stand-in),
where a failed or hanging upload neither fails nor doubles the digest."""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.config import Settings
from dealcoach.digest import chart
from dealcoach.digest.chart import (
    BAR,
    HEIGHT,
    LINE,
    WIDTH,
    chart_alt_text,
    chart_helps,
    encode_png,
    trend_chart_png,
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


def weeks(*points: tuple[int, int]) -> list[WeekPoint]:
    """(reviews, win_win) per week, oldest first, ending at 2026-W46."""
    first = 47 - len(points)
    return [
        WeekPoint(week=f"2026-W{first + i:02d}", reviews=r, win_win=w)
        for i, (r, w) in enumerate(points)
    ]


def decode_png(data: bytes) -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    """Width, height and RGB rows of an 8-bit RGB PNG with filter 0 (what `encode_png`
    writes), checking the signature, every chunk's CRC and the chunk order on the way."""
    assert data[:8] == PNG_SIGNATURE
    pos, kinds, idat, header = 8, [], b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        kinds.append(kind)
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert pos == len(data)
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height, depth, color, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", header
    )
    assert (depth, color, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(idat)
    stride = 1 + width * 3
    assert len(raw) == height * stride
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0  # filter: none
        rows.append([tuple(line[1 + 3 * x : 4 + 3 * x]) for x in range(width)])
    return width, height, rows  # type: ignore[return-value]


def column_counts(
    rows: list[list[tuple[int, int, int]]], n: int, color: tuple[int, ...]
) -> list[int]:
    """Pixels of `color` in each of the chart's `n` week columns."""
    left, right = chart._LEFT, chart._RIGHT
    slot = (right - left) / n
    counts = []
    for i in range(n):
        x0, x1 = round(left + slot * i), round(left + slot * (i + 1))
        counts.append(sum(1 for row in rows for px in row[x0:x1] if px == color))
    return counts


# --- the image --------------------------------------------------------------------------------


def test_the_chart_is_a_valid_png_of_the_declared_size() -> None:
    data = trend_chart_png(weeks((3, 1), (0, 0), (5, 4), (2, 1), (8, 2), (1, 1), (4, 2), (6, 3)))
    width, height, rows = decode_png(data)
    assert (width, height) == (WIDTH, HEIGHT) == (640, 240)
    assert len(rows) == height and all(len(r) == width for r in rows)
    assert len(data) < 20_000  # small enough to upload every Monday without a thought


def test_the_chart_is_deterministic_and_follows_its_data() -> None:
    a = weeks((3, 1), (0, 0), (5, 4), (2, 1), (8, 2), (1, 1), (4, 2), (6, 3))
    b = weeks((3, 1), (0, 0), (5, 4), (2, 1), (8, 2), (1, 1), (4, 2), (6, 4))
    assert trend_chart_png(a, "en") == trend_chart_png(list(a), "en")
    assert trend_chart_png(a, "en") == trend_chart_png(a, "nl")  # labels are locale-neutral
    assert trend_chart_png(a) != trend_chart_png(b)


def test_bar_heights_follow_the_reviews_per_week() -> None:
    reviews = [1, 0, 3, 2, 8, 0, 5, 4]
    data = weeks(*((r, 0) for r in reviews))
    _, _, rows = decode_png(trend_chart_png(data))
    counts = column_counts(rows, len(reviews), BAR)
    assert counts.index(max(counts)) == reviews.index(max(reviews))  # the tallest week
    assert [c for c, r in zip(counts, reviews, strict=True) if r == 0] == [0, 0]
    with_reviews = [(r, c) for r, c in zip(reviews, counts, strict=True) if r]
    by_reviews = [c for _, c in sorted(with_reviews)]
    assert by_reviews == sorted(by_reviews) and len(set(by_reviews)) == len(by_reviews)
    # heights are proportional: 8 reviews ≈ 8× the bar of 1 review (within the line's width)
    assert 6.5 < max(counts) / counts[0] < 9.5


def test_the_share_line_sits_at_the_share() -> None:
    # week 1: 100 % win-win, week 2: no reviews (no dot), week 3: 0 %
    data = weeks((2, 2), (0, 0), (2, 0))
    _, _, rows = decode_png(trend_chart_png(data))

    def line_rows(i: int) -> list[int]:
        slot = (chart._RIGHT - chart._LEFT) / 3
        x0, x1 = round(chart._LEFT + slot * i), round(chart._LEFT + slot * (i + 1))
        return [y for y, row in enumerate(rows) if LINE in row[x0:x1]]

    top, gap, bottom = line_rows(0), line_rows(1), line_rows(2)
    assert top and abs(sum(top) / len(top) - chart._TOP) <= 6
    assert bottom and abs(sum(bottom) / len(bottom) - chart._BOTTOM) <= 6
    assert gap == []  # no review that week: no dot, and the line breaks


def test_encode_png_refuses_a_buffer_of_the_wrong_size() -> None:
    assert decode_png(encode_png(2, 1, bytes([255, 0, 0, 0, 0, 255])))[2] == [
        [(255, 0, 0), (0, 0, 255)]
    ]
    with pytest.raises(ValueError):
        encode_png(2, 2, b"\x00" * 11)


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


def test_the_chart_follows_the_digest_in_its_thread(store: Store, web_api: MockSlackWebApi) -> None:
    two_teams(store)  # both managers' teams reviewed in weeks 45 and 46
    report = _send(store, web_api)
    assert sorted(report.sent) == ["UM1", "UM2"] and report.failed == []

    calls = web_api.calls
    posts = {
        c.params["channel"]: (i, c) for i, c in enumerate(calls) if c.method == "chat.postMessage"
    }
    uploads = {u["channel_id"]: u for u in web_api.uploads()}
    assert set(posts) == set(uploads) == {"UM1", "UM2"}
    for channel, (index, _post) in posts.items():
        upload = uploads[channel]
        # the thread is the digest message: the stand-in's ts ends in the call's sequence number
        assert re.fullmatch(rf"\d+\.{index + 1:06d}", str(upload["thread_ts"]))
        done = next(
            i
            for i, c in enumerate(calls)
            if c.method == "files.completeUploadExternal" and c.params["channel_id"] == channel
        )
        assert done > index  # after the digest message
        width, height, _ = decode_png(upload["content"])
        assert (width, height) == (WIDTH, HEIGHT)
        assert int(upload["length"]) == len(upload["content"])
        assert upload["filename"] == "dealcoach-trend-2026-W46.png"
    assert uploads["UM1"]["title"] == "Last 8 weeks · 2026-W46"
    assert uploads["UM2"]["title"] == "Afgelopen 8 weken · 2026-W46"  # UM2 reads Dutch
    assert uploads["UM1"]["alt_txt"].startswith("Last 8 weeks")
    assert (
        "Reviews W39 0, W40 0, W41 0, W42 0, W43 0, W44 0, W45 1, W46 2."
        in uploads["UM1"]["alt_txt"]
    )
    assert "W45 1, W46 1." in uploads["UM2"]["alt_txt"]
    assert uploads["UM2"]["alt_txt"].startswith("Afgelopen 8 weken")
    assert [c.method for c in calls].count("upload") == 2


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
