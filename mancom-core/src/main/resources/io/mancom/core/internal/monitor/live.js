// The live pages' shared part: formatting, throughput rates and the plots. One copy, inlined where
// a page says LIVE_JS (by ControlHandler for a runtime's own page, GET / on its control socket, and
// by `mancom status --web` for the system's): each page stays one self-contained document.
// Plain DOM and canvas only: the pages are served from the jars and must work offline (no CDN).
const HISTORY = 120;               // seconds of throughput kept per plot

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + u[i];
}

// Throughput per key (a service, or "pid/service") from successive byte totals, HISTORY seconds
// of it kept for the plots.
class Rates {
  constructor() {
    this.series = new Map();       // key -> {t: [], in: [], out: [], last: {t, in, out}}
    this.sampled = new Set();      // keys sampled since the last prune()
  }

  // Totals of `key` at `t` (seconds): returns [in/s, out/s] since its previous sample.
  sample(key, t, bytesIn, bytesOut) {
    this.sampled.add(key);
    let h = this.series.get(key);
    if (!h) { h = {t: [], in: [], out: [], last: null}; this.series.set(key, h); }
    let rin = 0, rout = 0;
    if (h.last && t > h.last.t) {
      rin = Math.max(0, (bytesIn - h.last.in) / (t - h.last.t));
      rout = Math.max(0, (bytesOut - h.last.out) / (t - h.last.t));
      h.t.push(t); h.in.push(rin); h.out.push(rout);
      while (h.t.length && h.t[0] < t - HISTORY) { h.t.shift(); h.in.shift(); h.out.shift(); }
    }
    h.last = {t: t, in: bytesIn, out: bytesOut};
    return [rin, rout];
  }

  // Drops the keys not sampled since the last call (a process that ended) and their plots.
  prune() {
    for (const key of [...this.series.keys()]) {
      if (!this.sampled.has(key)) {
        this.series.delete(key);
        const canvas = document.getElementById("plot-" + key);
        if (canvas) canvas.parentNode.remove();
      }
    }
    this.sampled.clear();
  }
}

// One plot per key in the element #plots (canvas id "plot-" + key), titled title(key).
function plots(rates, title) {
  const box = document.getElementById("plots");
  for (const [key, h] of rates.series) {
    let canvas = document.getElementById("plot-" + key);
    if (!canvas) {
      const div = el("div", undefined, "plot");
      const b = el("b", title(key) + " ");
      b.appendChild(el("span", "in", "in"));
      b.appendChild(document.createTextNode(" / "));
      b.appendChild(el("span", "out", "out"));
      div.appendChild(b);
      canvas = el("canvas");
      canvas.id = "plot-" + key; canvas.width = 360; canvas.height = 120;
      div.appendChild(canvas);
      box.appendChild(div);
    }
    draw(canvas, h);
  }
}

function draw(canvas, h) {
  const g = canvas.getContext("2d"), w = canvas.width, ht = canvas.height, pad = 18;
  g.clearRect(0, 0, w, ht);
  const max = Math.max(1, ...h.in, ...h.out);
  g.fillStyle = "#666"; g.font = "10px sans-serif";
  g.fillText(bytes(max) + "/s", 2, 10);
  const now = h.t.length ? h.t[h.t.length - 1] : 0;
  // The time axis spans the history there is, up to HISTORY: a page just opened uses its width.
  const span = h.t.length > 1 ? Math.min(HISTORY, Math.max(1, now - h.t[0])) : HISTORY;
  g.fillText("last " + span.toFixed(0) + " s", w - 60, ht - 4);
  g.strokeStyle = "#ddd"; g.beginPath(); g.moveTo(0, ht - pad + 0.5); g.lineTo(w, ht - pad + 0.5); g.stroke();
  for (const [values, color] of [[h.in, "#1f77b4"], [h.out, "#d62728"]]) {
    g.strokeStyle = color; g.lineWidth = 1.5; g.beginPath();
    values.forEach((v, i) => {
      const x = w - (now - h.t[i]) / span * w;
      const y = ht - pad - v / max * (ht - pad - 14);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }
}
