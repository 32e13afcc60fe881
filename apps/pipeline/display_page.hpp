// The display's live page: polls /stats.json and reloads each source's
// /frame.jpg, so a browser shows the pipeline as it runs.
//
// Everything on the page that came from a record (a source's name, a label,
// an instance, a counter's name, a topic) is put in as text, never as HTML:
// records are anyone's input. The page's style and script are served apart
// (/page.css, /page.js) so the Content-Security-Policy can allow the page's
// own and nothing else, inline script included.
#pragma once

namespace corps::pipeline {

/// Sent with every answer of the display.
inline constexpr const char* page_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

inline constexpr const char* display_page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>corps pipeline</title>
<link rel="stylesheet" href="/page.css">
</head>
<body>
<h1>corps pipeline: capture &rarr; predict &rarr; display</h1>
<div id="rates">waiting for frames&hellip;</div>
<div id="sources"></div>
<table id="stages"><thead><tr><th>stage</th><th>p50 ms</th><th>p99 ms</th></tr></thead><tbody></tbody></table>
<table id="lag"><thead><tr><th>topic</th><th>partition</th><th>lag</th></tr></thead><tbody></tbody></table>
<table id="services"><thead><tr><th>service</th><th>counters</th></tr></thead><tbody></tbody></table>
<script src="/page.js"></script>
</body>
</html>
)html";

inline constexpr const char* display_style = R"css(
body { font-family: sans-serif; background: #111; color: #eee; margin: 1em; }
h1 { font-size: 1.3em; margin: 0 0 .5em; }
#sources { display: flex; flex-wrap: wrap; gap: 1em; }
.source { background: #222; padding: .5em; border-radius: 6px; }
.source img { display: block; max-width: 640px; }
.labels span { display: inline-block; background: #2a6; color: #fff; margin: .2em; padding: .1em .5em; border-radius: 4px; }
table { border-collapse: collapse; margin-top: 1em; }
td, th { border: 1px solid #444; padding: .2em .6em; text-align: right; }
td.counters { text-align: left; }
)css";

inline constexpr const char* display_script = R"js(
'use strict';
const cards = {};
// An element with `text` in it, as text.
function element(tag, text, className) {
  const made = document.createElement(tag);
  if (text !== undefined) made.textContent = String(text);
  if (className) made.className = className;
  return made;
}
function row(cells, lastClass) {
  const tr = document.createElement('tr');
  cells.forEach((cell, i) => tr.appendChild(element('td', cell, i === cells.length - 1 ? lastClass : undefined)));
  return tr;
}
function fill(selector, rows) {
  document.querySelector(selector).replaceChildren(...rows);
}
function card(source) {
  if (cards[source]) return cards[source];
  const div = element('div', undefined, 'source');
  div.appendChild(element('h2', source));
  const img = element('img');
  img.alt = 'latest frame';
  div.appendChild(img);
  div.appendChild(element('div', undefined, 'labels'));
  document.getElementById('sources').appendChild(div);
  return cards[source] = div;
}
async function refresh() {
  try {
    const stats = await (await fetch('/stats.json')).json();
    document.getElementById('rates').textContent =
      `frames in: ${(stats.framesPerSecondIn || 0).toFixed(1)}/s (${stats.frames || 0}) · ` +
      `predictions: ${(stats.predictionsPerSecond || 0).toFixed(1)}/s (${stats.predictions || 0}) · ` +
      `errors: ${stats.errors || 0}`;
    for (const view of stats.sources || []) {
      const div = card(view.source);
      div.querySelector('h2').textContent =
        `${view.source}: frame ${view.frame || 0}, prediction of frame ${view.predictedFrame || 0}`;
      div.querySelector('img').src = `/frame.jpg?source=${encodeURIComponent(view.source)}&t=${Date.now()}`;
      div.querySelector('.labels').replaceChildren(...Object.entries(view.labels || {})
        .map(([label, n]) => element('span', `${label} × ${n}`, 'label')));
    }
    fill('#stages tbody', (stats.stages || []).map(s =>
      row([s.stage, (s.p50Ms || 0).toFixed(1), (s.p99Ms || 0).toFixed(1)])));
    fill('#services tbody', (stats.services || []).map(s =>
      row([`${s.instance}${s.finished ? ' (done)' : ''}`,
           Object.entries(s.counters || {}).sort().map(([k, v]) => `${k} ${v}`).join(' · ')],
          'counters')));
    fill('#lag tbody', (stats.lag || []).map(l => row([l.topic, l.partition || 0, l.lag || 0])));
  } catch (e) {
    document.getElementById('rates').textContent = 'display unreachable: ' + e;
  }
}
refresh();
setInterval(refresh, 500);
)js";

}  // namespace corps::pipeline
