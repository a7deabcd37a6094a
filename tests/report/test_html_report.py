"""The HTML report and its SVG chain: escaping, what is drawn, lane geometry, and a real browser.

Timelines come from real git repositories (gitfixture) scanned and built as the CLI does. The
browser test opens the TaskMan-v2 sample's report in Debian's headless chromium and reads back
where every revision ID was laid out.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import struct
import subprocess
import time
import zlib
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from gitfixture import GitRepo, revision_source
from migration_archaeologist.database.stamp import read_stamp
from migration_archaeologist.report.html import render_html
from migration_archaeologist.report.markup import esc
from migration_archaeologist.report.chain_layout import MESSAGE_WIDTH, ROW, layout
from migration_archaeologist.report.svg import SIZE, chain_svg, fit
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.chain.story import build_timeline
from migration_archaeologist.chain.timeline import Timeline

V = "alembic/versions"
HOSTILE_MESSAGE = '</text><script>alert("x")</script> & \'q\' <img src="http://evil.example/x.png"> "quoted"'
HOSTILE_ID = "x<&\"'>y"


def _date(i: int) -> str:
    return f"2025-10-{1 + i // 24:02d} {i % 24:02d}:00:00.000000"


def _timeline(repo: GitRepo, revisions: list[tuple]) -> Timeline:
    """Commit (rev, down, message, kwargs) revision files in one go, scan, build the timeline."""
    for i, (rev, down, message, extra) in enumerate(revisions):
        repo.write(f"{V}/r{i:04d}.py", revision_source(rev, down, message, create_date=_date(i), **extra))
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "revisions")
    return build_timeline(scan_repository(repo.path, versions=[V]))


SHAPES = [
    ("aaa000000001", None, "base", {}),
    ("bbb000000002", "aaa000000001", "branch point here", {"branch_labels": "feature"}),
    ("ccc000000003", "bbb000000002", "left branch", {}),
    ("ddd000000004", "bbb000000002", "right branch", {}),
    ("eee000000005", ("ccc000000003", "ddd000000004"), "merge both branches", {}),
    ("fff000000006", "eee000000005", "needs ccc too", {"depends_on": "ccc000000003"}),
    ("ggg000000007", "lost00000000", HOSTILE_MESSAGE, {}),
    (HOSTILE_ID, "fff000000006", "an ID nobody should write", {}),
]


@pytest.fixture
def shapes(repo: GitRepo) -> Timeline:
    return _timeline(repo, SHAPES)


class _Doc(HTMLParser):
    """Every tag with its attributes, the text, and the contents of <style> and <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.raw: dict[str, list[str]] = {"style": [], "script": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.raw:
            self._in = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in].append(data)
        else:
            self.text.append(data)


def _parse(markup: str) -> _Doc:
    doc = _Doc()
    doc.feed(markup)
    doc.close()
    return doc


def test_hostile_messages_and_ids_are_escaped(shapes: Timeline) -> None:
    page = render_html(shapes)
    assert "<script>alert" not in page and "<img" not in page
    assert HOSTILE_ID not in page  # only ever escaped
    doc = _parse(page)
    assert [t for t, _ in doc.tags if t == "script"] == ["script"]  # ours, and nothing else
    assert not [t for t, _ in doc.tags if t == "img"]
    assert not [(t, a) for t, attrs in doc.tags for a in attrs if a.lower().startswith("on")]
    text = "".join(doc.text)
    assert HOSTILE_MESSAGE in text and HOSTILE_ID in text  # shown, as text
    # the picture names the hostile ID exactly, in its own <text>, and links to its row
    svg = _parse(chain_svg(shapes))
    ids = [a.get("data-rev") for t, a in svg.tags if t == "g" and "data-rev" in a]
    assert HOSTILE_ID in ids
    rows = [a for t, a in doc.tags if t == "article"]
    anchors = {a["id"] for a in rows}
    assert {unquote(a["href"][1:]) for t, a in doc.tags if t == "a" and a.get("href")} <= anchors | {
        "problems"
    }


def test_merge_branch_point_depends_on_and_lost_parent_are_drawn(shapes: Timeline) -> None:
    svg = chain_svg(shapes)
    doc = _parse(svg)
    groups = {a["data-rev"]: a["class"] for t, a in doc.tags if t == "g" and "data-rev" in (a or {})}
    assert list(groups) == [e.revision for e in shapes.entries]
    assert groups["lost00000000"] == "revision status-lost"
    merge = re.search(r'data-rev="eee000000005">.*?</g>', svg, re.S)
    assert merge and 'class="merge"' in merge.group(0)
    lost = re.search(r'data-rev="lost00000000">.*?</g>', svg, re.S)
    assert lost and 'fill="#ffffff" stroke="#e03131"' in lost.group(0)  # hollow red
    edges = [a for t, a in doc.tags if t == "path" and "edge" in (a.get("class") or "")]
    assert len(edges) == len(shapes.edges) == 9
    dashed = [a for a in edges if "depends-on" in a["class"]]
    assert len(dashed) == 1 and dashed[0].get("stroke-dasharray")
    geo = layout(shapes)
    by_edge = {(r.edge.revision, r.edge.target): r for r in geo.edges}
    assert ("ggg000000007", "lost00000000") in by_edge  # the missing parent has its edge
    # branch point: the first child continues its lane, the second gets a new one
    b = geo.nodes["bbb000000002"]
    lanes = {by_edge[(c, "bbb000000002")].lane for c in ("ccc000000003", "ddd000000004")}
    assert b.lane in lanes and len(lanes) == 2
    # merge point: it sits in the leftmost lane of the edges converging into it
    converging = [by_edge[("eee000000005", p)].lane for p in ("ccc000000003", "ddd000000004")]
    assert geo.nodes["eee000000005"].lane == min(converging)
    page = render_html(shapes)
    assert "merge point of ccc000000003, ddd000000004" in page
    assert "branch point: ccc000000003, ddd000000004 each continue from here" in page
    assert "missing-parent" in page  # the problems table


def test_no_external_resources_and_every_link_stays_in_the_page(shapes: Timeline) -> None:
    page = render_html(shapes)
    doc = _parse(page)
    for tag, attrs in doc.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed", "base", "image", "use", "audio", "video")
        for name, value in attrs.items():
            assert name not in ("src", "srcset", "action", "xlink:href", "poster", "background"), (tag, name)
            if name == "href":
                assert value and value.startswith("#"), (tag, value)
            if name == "http-equiv":
                raise AssertionError(f"<meta http-equiv={value}>")
            if value and "url(" in value:
                assert re.fullmatch(r"url\(#[\w-]+\)", value), (tag, name, value)
    style = "".join(doc.raw["style"])
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    script = "".join(doc.raw["script"])
    assert not re.search(r"fetch|XMLHttpRequest|import\(|https?:", script)
    # only the hostile message (shown as text, in the picture cut short) names a URL at all
    without = page.replace(esc(HOSTILE_MESSAGE), "").replace(esc(fit(HOSTILE_MESSAGE, MESSAGE_WIDTH, SIZE)), "")
    assert not re.search(r"https?:|ftp:|//[a-z0-9-]+\.[a-z]", without, re.I)
    ids = {a["id"] for _, a in doc.tags if "id" in a}
    for tag, attrs in doc.tags:
        if attrs.get("href"):
            assert unquote(attrs["href"][1:]) in ids, attrs["href"]


def _clear(route, nodes) -> list[str]:  # type: ignore[no-untyped-def]
    """Nodes other than its own two that the route comes within a node's radius of."""
    line = route.polyline(24)
    hit = []
    for node in nodes.values():
        if node.revision in (route.edge.revision, route.edge.target):
            continue
        gap = min(_distance((node.x, node.y), a, b) for a, b in zip(line, line[1:]))
        if gap <= node.radius + 1.0:
            hit.append(node.revision)
    return hit


def _distance(p, a, b) -> float:  # type: ignore[no-untyped-def]
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == dy == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _branchy(n: int) -> list[tuple]:
    """A chain with branches that live for a while, merges of two tips, depends_on across lanes."""
    import random

    rnd = random.Random(20251015)
    revs = [f"{0:012x}"]
    out: list[tuple] = [(revs[0], None, "base", {})]
    tips = [revs[0]]
    for i in range(1, n):
        rev = f"{i * 7919:012x}"
        roll = rnd.random()
        if roll < 0.12 and len(tips) < 5:
            down: str | tuple[str, ...] = rnd.choice(revs[-6:])
        elif roll < 0.3 and len(tips) > 1:
            down = tuple(rnd.sample(tips, 2))
        else:
            down = rnd.choice(tips)
        extra = {"depends_on": rnd.choice(revs[-15:-3])} if rnd.random() < 0.08 and len(revs) > 15 else {}
        out.append((rev, down, f"change {i}", extra))
        downs = down if isinstance(down, tuple) else (down,)
        tips = [t for t in tips if t not in downs] + [rev]
        revs.append(rev)
    return out


def test_lane_layout_edges_never_pass_through_a_node(repo: GitRepo, shapes: Timeline) -> None:
    big = _timeline(GitRepo.init(repo.path.parent / "branchy"), _branchy(160))
    assert sum(e.merge_point for e in big.entries) > 10 and sum(e.branch_point for e in big.entries) > 10
    for timeline in (shapes, big):
        geo = layout(timeline)
        assert len({n.y for n in geo.nodes.values()}) == len(geo.nodes)  # one node per row
        assert [n.revision for n in geo.nodes.values()] == [e.revision for e in timeline.entries]
        for route in geo.edges:
            assert not _clear(route, geo.nodes), (route.edge, _clear(route, geo.nodes))
            # outside the half rows next to its two ends, an edge is one vertical line in its lane
            ends = sorted(p[1] for p in (route.points[0], route.points[-1]))
            lane_xs = {x for x, y in route.polyline(8) if ends[0] + ROW / 2 < y < ends[1] - ROW / 2}
            assert len(lane_xs) <= 1, (route.edge, lane_xs)
        assert not [r for r in geo.edges if r.back]
    assert geo.lanes >= 3


def test_a_cycle_is_drawn_on_the_side_without_crashing(repo: GitRepo) -> None:
    timeline = _timeline(
        repo,
        [
            ("base00000001", None, "base", {}),
            ("cyc_a", "cyc_b", "a needs b", {}),
            ("cyc_b", "cyc_a", "b needs a", {}),
            ("selfish", "selfish", "needs itself", {}),
        ],
    )
    assert "cycle" in {p.kind for p in timeline.problems}
    geo = layout(timeline)
    back = [r for r in geo.edges if r.back]
    assert back
    used = max(n.lane for n in geo.nodes.values())
    assert all(r.lane > used for r in back)  # in gutter lanes right of every node
    for route in geo.edges:
        assert not _clear(route, geo.nodes)
    page = render_html(timeline)
    assert "points downwards: part of a cycle" in page


def test_500_revisions_make_the_picture_taller_not_wider(repo: GitRepo) -> None:
    def linear(n: int) -> list[tuple]:
        return [(f"{i + 1:012x}", f"{i:012x}" if i else None, f"step {i}", {}) for i in range(n)]

    small = _timeline(repo, linear(5))
    start = time.perf_counter()
    big = _timeline(GitRepo.init(repo.path.parent / "long"), linear(500))
    assert len(big.entries) == 500
    small_geo, big_geo = layout(small), layout(big)
    assert big_geo.width == small_geo.width and big_geo.lanes == 1
    assert big_geo.height - small_geo.height == 495 * ROW
    page = render_html(big)
    assert f'width="{big_geo.width:.0f}"' in page and page.count('class="revision status-present"') == 500
    assert time.perf_counter() - start < 30


# --------------------------------------------------------------------------- the browser

PROBE = """
<script>
(function () {
  var svg = document.querySelector('svg.chain'), out = [];
  Array.prototype.forEach.call(svg.querySelectorAll('text'), function (t) {
    t.scrollIntoView({block: 'center', inline: 'center'});
    var r = t.getBoundingClientRect(), box = svg.getBoundingClientRect(), style = getComputedStyle(t);
    var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    out.push({text: t.textContent, cls: t.getAttribute('class'), x: r.left - box.left, y: r.top - box.top,
              w: r.width, h: r.height, svgW: box.width, svgH: box.height,
              shown: style.display !== 'none' && style.visibility === 'visible' && style.opacity !== '0',
              onTop: !!hit && (hit === t || t.contains(hit))});
  });
  var pre = document.createElement('pre');
  pre.id = 'ma-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("MA_REQUIRE_BROWSER") == "1":
        pytest.fail("MA_REQUIRE_BROWSER=1 but no chromium on PATH: install Debian's chromium (apt-get install chromium)")
    pytest.skip("chromium is not installed (set MA_REQUIRE_BROWSER=1 to make this a failure)")


def _browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", *args]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within 60 s: {' '.join(command)}")
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc


def _png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height and how many distinct byte values the (filtered) pixel rows hold: a blank
    page filters down to a handful, a page with text and colour to well over a hundred."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return size[0], size[1], len(set(zlib.decompress(idat)))


def test_sample_report_in_a_real_browser(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chromium = _chromium()
    info = builder.build(tmp_path / "taskman")
    stamp = read_stamp(f"sqlite:///{info['database']}")
    timeline = build_timeline(scan_repository(info["repo"]), stamp)
    assert timeline.stamped == (info["stamped"],)
    out = Path(os.environ.get("MA_ARTIFACTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    report = out / "taskman-v2-timeline.html"
    page = render_html(timeline)
    report.write_text(page, encoding="utf-8")
    probe = tmp_path / "probe.html"
    head, tail = page.rsplit("</body>", 1)
    probe.write_text(head + PROBE + "</body>" + tail, encoding="utf-8")

    started = time.perf_counter()
    dom = _browse(chromium, tmp_path / "profile", "--window-size=1280,2000", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="ma-probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run; chromium printed: {dom[:500]}"
    texts = json.loads(unescape(found.group(1)))
    assert texts, "the chain picture holds no <text> at all"
    for t in texts:  # every label of the picture is laid out, non-empty and inside the picture
        assert t["w"] > 0 and t["h"] > 0, t
        assert t["x"] >= -0.5 and t["y"] >= -0.5, t
        assert t["x"] + t["w"] <= t["svgW"] + 0.5 and t["y"] + t["h"] <= t["svgH"] + 0.5, t
    ids = {t["text"]: t for t in texts if t["cls"] == "id"}
    assert set(ids) == set(info["chain"]) and len(info["chain"]) == 6
    for rev in info["chain"]:
        shown = ids[rev]
        assert shown["shown"] and shown["onTop"], f"{rev} is not visible in the chain picture: {shown}"
        assert shown["h"] >= 10 and shown["w"] >= 6 * len(rev), shown  # real glyphs, not squeezed away
    assert any(t["text"] == "stamped" for t in texts)  # the database's revision is marked

    shot = out / "taskman-v2-timeline.png"
    shot.unlink(missing_ok=True)
    _browse(
        chromium, tmp_path / "profile", "--hide-scrollbars", "--window-size=1280,2000", f"--screenshot={shot}",
        report.as_uri(),
    )
    seconds = time.perf_counter() - started
    assert shot.exists(), "chromium wrote no screenshot"
    width, height, values = _png_facts(shot)
    assert (width, height) == (1280, 2000)
    assert shot.stat().st_size > 20_000 and values > 64, f"the screenshot looks blank ({values} byte values)"
    print(f"\nscreenshot: {shot}\nreport: {report}\nchromium: {seconds:.1f} s for the probe and the screenshot")


def test_a_missing_browser_skips_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("MA_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception):
        _chromium()
    monkeypatch.setenv("MA_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="MA_REQUIRE_BROWSER=1 but no chromium"):
        _chromium()
