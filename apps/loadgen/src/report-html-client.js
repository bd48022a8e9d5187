// Draws the report's plots as SVG from the inline JSON (script#report-data). Plain
// browser JavaScript, inlined into the page by report-html.ts: no libraries, no network.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function fmtUs(us) {
    return us >= 1e6 ? (us / 1e6).toFixed(2) + ' s' : us >= 1000 ? (us / 1000).toFixed(us >= 1e4 ? 0 : 1) + ' ms' : Math.round(us) + ' µs';
  }
  // 1, 2 or 5 times a power of ten, at least x: axis steps a reader can add up.
  function niceStep(x) {
    if (!(x > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(x)));
    var m = x / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function min(a) {
    return a.reduce(function (x, y) {
      return Math.min(x, y);
    }, Infinity);
  }
  function max(a) {
    return a.reduce(function (x, y) {
      return Math.max(x, y);
    }, -Infinity);
  }

  var W = 1000,
    H = 300,
    L = 70,
    R = 130,
    T = 26,
    B = 40;

  // o: { id, title, xLabel, yLabel, xMin, series: [{name, color, points: [[x, y]]}], logX, logY, marks: [{x, label, cls}], shade: [x0, x1] | null, xTicks: [[v, label]], yFmt }
  function plot(o) {
    var svg = el('svg', { id: o.id, width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' }, document.getElementById('plots'));
    el('text', { x: L, y: 16, 'font-weight': 'bold' }, svg, o.title);
    var f = scales(o);
    if (o.shade) el('rect', { class: 'warmup', x: f.sx(o.shade[0]), y: T, width: Math.max(0, f.sx(o.shade[1]) - f.sx(o.shade[0])), height: H - T - B }, svg);
    drawAxes(svg, o, f);
    drawSeries(svg, o, f);
  }

  // The value ranges of a plot and the maps from values to pixels.
  function scales(o) {
    var marks = o.marks || [];
    var all = [];
    o.series.forEach(function (s) {
      all = all.concat(s.points);
    });
    function tx(v) {
      return o.logX ? Math.log10(Math.max(v, 1e-9)) : v;
    }
    function ty(v) {
      return o.logY ? Math.log10(Math.max(v, 1)) : v;
    }
    var xs = all.map(function (p) {
      return tx(p[0]);
    });
    xs = xs.concat(
      marks.map(function (m) {
        return tx(m.x);
      }),
      (o.xTicks || []).map(function (t) {
        return tx(t[0]);
      }),
    );
    var ys = all.map(function (p) {
      return ty(p[1]);
    });
    var x0 = o.xMin !== undefined ? o.xMin : min(xs),
      x1 = max(xs);
    var y0 = o.logY ? Math.floor(min(ys)) : 0,
      y1 = max(ys);
    if (!isFinite(x0) || !isFinite(x1)) {
      x0 = 0;
      x1 = 1;
    }
    if (x1 === x0) x1 = x0 + 1;
    if (!isFinite(y0)) y0 = 0;
    if (!isFinite(y1) || y1 <= y0) y1 = y0 + 1;
    var yStep = niceStep(y1 / 5);
    y1 = o.logY ? Math.ceil(y1 * 10) / 10 : Math.ceil((y1 * 1.04) / yStep) * yStep;
    return {
      x0: x0,
      x1: x1,
      y0: y0,
      y1: y1,
      yStep: yStep,
      sx: function (v) {
        return L + ((tx(v) - x0) / (x1 - x0)) * (W - L - R);
      },
      sy: function (v) {
        return H - B - ((ty(v) - y0) / (y1 - y0)) * (H - T - B);
      },
    };
  }

  // Grid lines, tick labels, axes and axis labels.
  function drawAxes(svg, o, f) {
    var yt = [],
      i,
      e;
    if (o.logY) for (e = Math.ceil(f.y0); e <= f.y1; e++) yt.push(Math.pow(10, e));
    else for (i = 0; i * f.yStep <= f.y1 + 1e-9; i++) yt.push(i * f.yStep);
    yt.forEach(function (v) {
      el('line', { class: 'grid', x1: L, x2: W - R, y1: f.sy(v), y2: f.sy(v) }, svg);
      el('text', { x: L - 6, y: f.sy(v) + 4, 'text-anchor': 'end' }, svg, o.yFmt(v));
    });
    var xt = o.xTicks;
    if (!xt) {
      xt = [];
      var xStep = niceStep((f.x1 - f.x0) / 8);
      for (var v = Math.ceil(f.x0 / xStep) * xStep; v <= f.x1 + 1e-9; v += xStep) xt.push([v, String(Number(v.toFixed(3)))]);
    }
    xt.forEach(function (t) {
      el('line', { class: 'grid', x1: f.sx(t[0]), x2: f.sx(t[0]), y1: T, y2: H - B }, svg);
      el('text', { x: f.sx(t[0]), y: H - B + 16, 'text-anchor': 'middle' }, svg, t[1]);
    });
    el('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }, svg);
    el('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }, svg);
    el('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, svg, o.xLabel);
    var cy = (T + H - B) / 2;
    el('text', { x: 14, y: cy, transform: 'rotate(-90 14 ' + cy + ')', 'text-anchor': 'middle' }, svg, o.yLabel);
  }

  // The series as paths with their legend, and the marks (failovers) as vertical lines.
  function drawSeries(svg, o, f) {
    o.series.forEach(function (s, k) {
      if (s.points.length === 0) return;
      var d = s.points
        .map(function (p, j) {
          return (j === 0 ? 'M' : 'L') + f.sx(p[0]).toFixed(1) + ' ' + f.sy(p[1]).toFixed(1);
        })
        .join(' ');
      el('path', { class: 'series', 'data-series': s.name, d: d, stroke: s.color }, svg);
      el('line', { x1: W - R + 12, x2: W - R + 32, y1: T + 10 + k * 16, y2: T + 10 + k * 16, stroke: s.color, 'stroke-width': 2 }, svg);
      el('text', { x: W - R + 38, y: T + 14 + k * 16 }, svg, s.name);
    });
    (o.marks || []).forEach(function (m, k) {
      el('line', { class: m.cls, x1: f.sx(m.x), x2: f.sx(m.x), y1: T, y2: H - B, 'data-label': m.label }, svg);
      el('text', { x: f.sx(m.x) + 3, y: T + 10 + (k % 3) * 12, fill: m.cls === 'failover' ? '#d62728' : '#000' }, svg, m.label);
    });
  }

  var rows = data.intervals;
  function mid(r) {
    return r.tS + r.lengthS / 2;
  }
  var marks = data.failovers
    .filter(function (f) {
      return f.from !== null;
    })
    .map(function (f) {
      return { x: f.tS, label: 'failover → ' + f.to, cls: 'failover' };
    });
  if (data.drill)
    data.drill.kills.forEach(function (k) {
      marks.push({ x: k.killAtS, label: 'kill ' + k.n, cls: 'kill' });
    });
  var warm = rows.filter(function (r) {
    return r.warmup;
  });
  var shade = warm.length > 0 ? [0, warm[warm.length - 1].tS + warm[warm.length - 1].lengthS] : null;

  plot({
    id: 'plot-throughput',
    title: 'Throughput: committed updates per second (grey: warm-up)',
    xLabel: 'time (s)',
    yLabel: 'updates/s',
    xMin: 0,
    series: [
      {
        name: 'committed/s',
        color: '#1f77b4',
        points: rows.map(function (r) {
          return [mid(r), r.rate];
        }),
      },
    ],
    marks: marks,
    shade: shade,
    yFmt: function (v) {
      return v >= 1000 ? (v / 1000).toFixed(v >= 1e4 ? 0 : 1) + 'k' : v.toFixed(0);
    },
  });

  var lat = rows.filter(function (r) {
    return r.latency.count > 0;
  });
  function ls(name, color, f) {
    return {
      name: name,
      color: color,
      points: lat.map(function (r) {
        return [mid(r), f(r.latency)];
      }),
    };
  }
  plot({
    id: 'plot-latency',
    title: 'Latency percentiles per interval' + (data.mode === 'open loop' ? ' (from the intended send time)' : ''),
    xLabel: 'time (s)',
    yLabel: 'latency',
    logY: true,
    xMin: 0,
    marks: marks,
    shade: shade,
    yFmt: fmtUs,
    series: [
      ls('p50', '#2ca02c', function (l) {
        return l.p50Us;
      }),
      ls('p99', '#ff7f0e', function (l) {
        return l.p99Us;
      }),
      ls('p99.9', '#d62728', function (l) {
        return l.p999Us;
      }),
      ls('max', '#7f7f7f', function (l) {
        return l.maxUs;
      }),
    ],
  });

  var spec = data.spectrum.filter(function (p) {
    return p.percentile < 100;
  });
  function inv(p) {
    return 1 / (1 - p / 100);
  }
  var last = spec.length > 0 ? spec[spec.length - 1].percentile : 90;
  var decades = Math.max(1, Math.ceil(Math.log10(inv(last)) - 1e-9));
  var xTicks = [];
  for (var e2 = 0; e2 <= decades; e2++) xTicks.push([Math.pow(10, e2), e2 === 0 ? '0%' : (100 - 100 / Math.pow(10, e2)).toFixed(Math.max(0, e2 - 2)) + '%']);
  plot({
    id: 'plot-distribution',
    title: 'Latency by percentile over the measured span (x: 1/(1-p), log scale)',
    xLabel: 'percentile',
    yLabel: 'latency',
    logX: true,
    xTicks: xTicks,
    yFmt: fmtUs,
    series: [
      {
        name: 'latency',
        color: '#9467bd',
        points: spec.map(function (p) {
          return [inv(p.percentile), p.valueUs];
        }),
      },
    ],
  });
  document.body.setAttribute('data-plots-drawn', String(document.querySelectorAll('svg path.series').length));
})();
