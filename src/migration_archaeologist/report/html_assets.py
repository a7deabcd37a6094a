"""The HTML report's stylesheet and script, inline in the one file it is: no fonts, images or
scripts from elsewhere."""

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 24px 28px 48px; max-width: 1240px; color: #212529; background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
code { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
code.command { user-select: all; overflow-wrap: anywhere; }
h1 { font-size: 26px; margin: 0; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e9ecef; }
h3 { font-size: 15px; margin: 22px 0 8px; color: #495057; }
h3 .day { display: inline-block; min-width: 7.5em; color: #212529; font-variant-numeric: tabular-nums; }
h4 { font-size: 14px; font-weight: normal; margin: 0 0 6px; }
a { color: #1c5fb8; text-decoration: none; }
a:hover { text-decoration: underline; }
.sub, .muted { color: #6c757d; }
.sub { margin: 2px 0 12px; }
.summary { display: grid; grid-template-columns: max-content 1fr; gap: 3px 18px; margin: 10px 0; }
.summary dt { color: #6c757d; }
.summary dd { margin: 0; overflow-wrap: anywhere; }
.status-text.present { color: #2b8a3e; } .status-text.recoverable { color: #d9480f; }
.status-text.retired { color: #667085; } .status-text.lost { color: #c92a2a; }
.status-text { font-weight: 600; } .status-text.none { color: #868e96; font-weight: normal; }
.search { margin: 14px 0 0; }
.search input { font: inherit; padding: 3px 8px; width: 22em; border: 1px solid #ced4da; border-radius: 4px; }
#search-count { color: #6c757d; margin-left: 6px; }
.legend { list-style: none; padding: 0; margin: 6px 0 10px; display: flex; flex-wrap: wrap; gap: 4px 22px; font-size: 13px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.legend svg { flex: none; }
.chain-scroll { display: inline-block; max-width: 100%; overflow-x: auto; border: 1px solid #e9ecef; border-radius: 6px; }
svg.chain { display: block; }
svg.chain a { cursor: pointer; }
svg.chain a.label:hover .row-bg, svg.chain .revision.hit .row-bg { fill-opacity: 1; fill: #e7f1ff; }
svg.chain a:hover text.id { fill: #1c5fb8; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #e9ecef; }
th { color: #495057; font-weight: 600; border-bottom: 2px solid #dee2e6; }
td.kind { white-space: nowrap; color: #c92a2a; font-weight: 600; }
table.evidence { table-layout: fixed; }
table.evidence td { overflow-wrap: anywhere; }
.ok { color: #2b8a3e; }
.count { font-size: 13px; color: #fff; background: #c92a2a; border-radius: 9px; padding: 1px 8px; vertical-align: middle; }
article.revision { border-left: 4px solid #ced4da; padding: 6px 12px 8px; margin: 0 0 10px; border-radius: 0 4px 4px 0; }
article.revision.present { border-left-color: #40c057; }
article.revision.recoverable { border-left-color: #fab005; }
article.revision.retired { border-left-color: #ced4da; }
article.revision.lost { border-left-color: #e03131; background: #fff8f8; }
article.revision:target, article.revision.hit { background: #e7f1ff; }
.rev-id { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-weight: 700; font-size: 14px; }
h4 .message { margin-left: 4px; font-weight: 600; }
.badge { display: inline-block; font-size: 11px; line-height: 16px; padding: 0 6px; border-radius: 3px; font-weight: 600;
  vertical-align: 1px; border: 1px solid transparent; }
.badge.present { background: #ebfbee; color: #2b8a3e; border-color: #b2f2bb; }
.badge.recoverable { background: #fff9db; color: #d9480f; border-color: #ffe066; }
.badge.retired { background: #f2f4f7; color: #475467; border-color: #d0d5dd; }
.badge.lost { background: #fff5f5; color: #c92a2a; border-color: #ffc9c9; }
.badge.stamped { background: #1c1c1c; color: #fff; }
.badge.plain { background: #f1f3f5; color: #495057; border-color: #dee2e6; }
.facts { display: grid; grid-template-columns: 10em 1fr; gap: 1px 12px; margin: 0; font-size: 13px; }
.facts dt { color: #6c757d; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.ops { margin: 0; padding-left: 1.2em; }
.source { color: #6c757d; }
.stamp.stamped { font-weight: 700; } .stamp.not-applied { color: #c92a2a; }
.checks { list-style: none; margin: 0; padding: 0; }
.checks li.match { color: #2b8a3e; } .checks li.mismatch { color: #c92a2a; } .checks li.unchecked { color: #6c757d; }
.checks .detail { display: block; color: #6c757d; font-size: 12px; margin: 0 0 3px 1.2em; }
details summary { color: #6c757d; cursor: pointer; }
@media print {
  body { padding: 0; max-width: none; font-size: 11pt; }
  .search { display: none; }
  .chain-scroll { overflow: visible; border: none; }
  article.revision, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; }
  article.revision:target, article.revision.hit { background: none; }
}
"""

# Search: highlight matching revisions in the picture and the timeline; Enter jumps to the first.
SCRIPT = """
(function () {
  var box = document.getElementById('search-box'), input = document.getElementById('search');
  var count = document.getElementById('search-count');
  if (!box || !input) return;
  box.hidden = false;
  var rows = Array.prototype.slice.call(document.querySelectorAll('article.revision'));
  var nodes = Array.prototype.slice.call(document.querySelectorAll('svg.chain .revision'));
  var hits = [];
  function update() {
    var q = input.value.trim().toLowerCase();
    hits = [];
    rows.forEach(function (row) {
      var on = q !== '' && row.getAttribute('data-search').indexOf(q) !== -1;
      row.classList.toggle('hit', on);
      if (on) hits.push(row.getAttribute('data-rev'));
    });
    nodes.forEach(function (g) { g.classList.toggle('hit', hits.indexOf(g.getAttribute('data-rev')) !== -1); });
    count.textContent = q === '' ? '' : hits.length + (hits.length === 1 ? ' match' : ' matches') +
      (hits.length ? ' (Enter to go to the first)' : '');
    var first = nodes.filter(function (g) { return g.classList.contains('hit'); })[0];
    if (first) first.scrollIntoView({block: 'nearest'});
  }
  input.addEventListener('input', update);
  input.addEventListener('keydown', function (ev) {
    if (ev.key !== 'Enter' || !hits.length) return;
    var row = rows.filter(function (r) { return r.getAttribute('data-rev') === hits[0]; })[0];
    if (row) { location.hash = '#' + row.id; }
  });
})();
"""
