// The display's live page: polls /stats.json and reloads each source's
// /frame.jpg, so a browser shows the pipeline as it runs.
#pragma once

namespace corps::pipeline {

inline constexpr const char* display_page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>corps pipeline</title>
<style>
  body { font-family: sans-serif; background: #111; color: #eee; margin: 1em; }
  h1 { font-size: 1.3em; margin: 0 0 .5em; }
  #sources { display: flex; flex-wrap: wrap; gap: 1em; }
  .source { background: #222; padding: .5em; border-radius: 6px; }
  .source img { display: block; max-width: 640px; }
  .labels span { display: inline-block; background: #2a6; color: #fff; margin: .2em; padding: .1em .5em; border-radius: 4px; }
  table { border-collapse: collapse; margin-top: 1em; }
  td, th { border: 1px solid #444; padding: .2em .6em; text-align: right; }
</style>
</head>
<body>
<h1>corps pipeline: capture &rarr; predict &rarr; display</h1>
<div id="rates">waiting for frames&hellip;</div>
<div id="sources"></div>
<table id="stages"><thead><tr><th>stage</th><th>p50 ms</th><th>p99 ms</th></tr></thead><tbody></tbody></table>
<table id="lag"><thead><tr><th>topic</th><th>partition</th><th>lag</th></tr></thead><tbody></tbody></table>
<table id="services"><thead><tr><th>service</th><th>counters</th></tr></thead><tbody></tbody></table>
<script>
const cards = {};
function card(source) {
  if (cards[source]) return cards[source];
  const div = document.createElement('div');
  div.className = 'source';
  div.innerHTML = '<h2></h2><img alt="latest frame"><div class="labels"></div>';
  div.querySelector('h2').textContent = source;
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
      div.querySelector('.labels').innerHTML = Object.entries(view.labels || {})
        .map(([label, n]) => `<span class="label">${label} &times; ${n}</span>`).join('');
    }
    document.querySelector('#stages tbody').innerHTML = (stats.stages || [])
      .map(s => `<tr><td>${s.stage}</td><td>${(s.p50Ms || 0).toFixed(1)}</td><td>${(s.p99Ms || 0).toFixed(1)}</td></tr>`).join('');
    document.querySelector('#services tbody').innerHTML = (stats.services || [])
      .map(s => `<tr><td>${s.instance}${s.finished ? ' (done)' : ''}</td><td style="text-align:left">` +
        Object.entries(s.counters || {}).sort().map(([k, v]) => `${k} ${v}`).join(' · ') + '</td></tr>').join('');
    document.querySelector('#lag tbody').innerHTML = (stats.lag || [])
      .map(l => `<tr><td>${l.topic}</td><td>${l.partition || 0}</td><td>${l.lag || 0}</td></tr>`).join('');
  } catch (e) {
    document.getElementById('rates').textContent = 'display unreachable: ' + e;
  }
}
refresh();
setInterval(refresh, 500);
</script>
</body>
</html>
)html";

}  // namespace corps::pipeline
