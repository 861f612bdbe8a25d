"""The report's one stylesheet (inline; the page's CSP allows it by its hash only)."""

CSS = """
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --muted: #6b6b70; --line: #d8d8dc;
  --soft: #f4f4f6; --pass: #1a7f37; --fail: #cf222e; --error: #9a6700; --ins: #d1f5d9;
  --del: #ffd7d5; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e6e9; --bg: #17171a; --muted: #9a9aa2; --line: #3a3a40; --soft: #232328;
    --ins: #1f4a2b; --del: #5a2320; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; padding: 16px 20px 120px; font: 14px/1.45 system-ui, sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.source, .muted, .facts, .where { color: var(--muted); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 10px 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
dl.meta ul { margin: 0; padding-left: 18px; }
.totals { font-weight: 600; margin: 8px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 28px; }
details.chartbox > summary { cursor: pointer; }
details.chartbox > summary h2 { display: inline; }
figure.chart { margin: 0; }
figure.chart figcaption { font-weight: 600; margin-bottom: 4px; }
figure.chart svg text { fill: currentColor; }
.controls { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px;
  align-items: center; padding: 8px 0; background: var(--bg);
  border-bottom: 1px solid var(--line); }
.controls input[type=search] { min-width: 260px; }
.count { color: var(--muted); }
.wrap { overflow-x: auto; }
table.grid { border-collapse: collapse; width: 100%; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 6px 8px; vertical-align: top;
  text-align: left; }
table.grid thead th { background: var(--soft); position: sticky; top: 0; }
table.runs td.res, table.runs th.col { min-width: 320px; max-width: 640px; }
table.runs td:first-child, table.runs th:first-child { width: 16em; max-width: 16em;
  overflow-wrap: anywhere; }
th.col .line { display: block; font-weight: 400; color: var(--muted); }
th.col .line:first-child { font-weight: 600; color: var(--fg); }
.out, .reason-text, pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0;
  font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
.result + .result { border-top: 1px dashed var(--line); margin-top: 8px; padding-top: 8px; }
.result .top { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; }
.result .facts { font-size: 12px; margin-top: 6px; }
.error-box { border-left: 3px solid var(--fail); padding: 2px 8px; margin: 4px 0; }
.error-box .code { font-weight: 700; color: var(--fail); }
.hint { color: var(--error); }
.notices { margin: 4px 0; padding-left: 18px; color: var(--error); font-size: 12px; }
details { margin: 4px 0; }
summary { cursor: pointer; color: var(--muted); }
.tool code { font-weight: 600; overflow-wrap: anywhere; }
.tool .sent { color: var(--muted); font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace;
  overflow-wrap: anywhere; }
.invalid { color: var(--fail); font-weight: 600; overflow-wrap: anywhere; }
.media { border: 1px dashed var(--line); padding: 8px; color: var(--muted); margin: 4px 0; }
.media img { max-width: 100%; display: block; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; margin: 4px 0; }
.grid figure { margin: 0; width: 256px; }
.grid img { max-width: 256px; max-height: 256px; display: block; border: 1px solid var(--line); }
.grid .filtered { width: 128px; height: 128px; border: 1px dashed var(--line);
  color: var(--muted); display: flex; align-items: center; justify-content: center; }
.grid figcaption { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.cite ol { margin: 2px 0; padding-left: 20px; font-size: 12px; }
.status { font-weight: 700; }
.s-pass { color: var(--pass); } .s-fail { color: var(--fail); }
.s-error, .s-ok-error { color: var(--error); }
.tag { font-size: 11px; border: 1px solid currentColor; border-radius: 8px; padding: 0 6px;
  margin-left: 6px; white-space: nowrap; }
table.tests tr.row { cursor: pointer; }
table.tests tr.row:hover { background: var(--soft); }
tr.detail > td { background: var(--soft); }
button.toggle { border: 0; background: none; cursor: pointer; color: inherit; font-size: 12px; }
.sample { margin: 6px 0 14px; }
.sample h4 { margin: 0 0 4px; font-size: 13px; }
table.asserts { border-collapse: collapse; margin: 4px 0 8px; font-size: 12px; }
table.asserts td, table.asserts th { border: 1px solid var(--line); padding: 2px 6px;
  vertical-align: top; text-align: left; }
.more { margin: 12px 0; }
#compare { position: fixed; left: 0; right: 0; bottom: 0; max-height: 45vh; overflow: auto;
  background: var(--bg); border-top: 2px solid var(--line); padding: 8px 20px; z-index: 3; }
#compare .bar { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
#compare .diff { margin-top: 6px; }
ins { background: var(--ins); text-decoration: none; }
del { background: var(--del); }
.baseline ul { margin: 2px 0 8px; padding-left: 18px; }
"""
