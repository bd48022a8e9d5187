// The visualizer page: follows every node of the cluster through its /events stream
// (Server-Sent Events), starting with the node that served the page and learning the
// others' addresses from its snapshots (the peer's, and every node of every shard the
// node's roll call found). With several shards the cards are grouped by shard. A stream
// that drops, or goes quiet, shows its node as lost; EventSource reconnects by itself,
// and when a node comes back on a new address (another node reports it) the page
// follows it there.
'use strict';

const STALE_MS = 1500;
const RECONNECT_MS = 1000;
const SPARK_POINTS = 120;
const TIMELINE_MAX = 60;
const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#db2777', '#ca8a04', '#4b5563'];
const SVG_NS = 'http://www.w3.org/2000/svg';

/** id -> { id, url, stream, snap, link, lastAt, samples: [{t, seq}], card, shard } */
const nodes = new Map();
/** Shards of the cluster, as the nodes report it (cards are grouped by shard when more than 1). */
let shardCount = 1;
/** Streams not yet known by node id (the page's own origin, at first). */
const pending = new Set();
const timeline = [];
const timelineKeys = new Set();
let diagram = null;

function colourOf(id) {
  const ids = [...nodes.keys()].sort();
  return PALETTE[Math.max(0, ids.indexOf(id)) % PALETTE.length];
}

// ---- streams --------------------------------------------------------------------

function open(url, knownId) {
  const es = new EventSource(`${url}/events`);
  const stream = { url, es, id: knownId ?? null, retry: null };
  if (knownId === undefined) pending.add(stream);
  es.addEventListener('hello', (ev) => {
    const hello = JSON.parse(ev.data);
    const node = adopt(hello.nodeId, stream);
    for (const t of hello.transitions) addTransition(t);
    markLink(node, 'live');
  });
  es.addEventListener('snapshot', (ev) => {
    const snap = JSON.parse(ev.data);
    const node = adopt(snap.nodeId, stream);
    onSnapshot(node, snap);
  });
  es.addEventListener('transition', (ev) => addTransition(JSON.parse(ev.data)));
  es.onerror = () => {
    const node = stream.id === null ? null : nodes.get(stream.id);
    if (node && node.stream === stream) markLink(node, 'lost');
    // A stream the browser gave up on (not just reconnecting) is reopened by hand.
    if (es.readyState === EventSource.CLOSED && stream.retry === null) {
      stream.retry = setTimeout(() => {
        const n = stream.id === null ? null : nodes.get(stream.id);
        if (n && n.stream === stream) follow(n.id, n.url);
        else if (stream.id === null) {
          pending.delete(stream);
          open(url);
        }
      }, RECONNECT_MS);
    }
  };
  return stream;
}

/** Binds a stream to its node id, creating the node on first sight. */
function adopt(id, stream) {
  pending.delete(stream);
  stream.id = id;
  let node = nodes.get(id);
  if (!node) {
    node = addNode(id, stream.url, stream);
  } else if (node.stream !== stream) {
    // A second stream to the same node (learnt twice): keep the newer, close the older.
    if (node.stream) close(node.stream);
    node.stream = stream;
    node.url = stream.url;
  }
  return node;
}

function close(stream) {
  if (stream.retry !== null) clearTimeout(stream.retry);
  stream.es.close();
}

/** Follows node `id` at `url`, replacing a stream to an older address. */
function follow(id, url) {
  const node = nodes.get(id);
  if (node && node.stream) close(node.stream);
  const stream = open(url, id);
  if (node) {
    if (node.url !== url) addLinkEvent(id, `following at ${url.replace(/^https?:\/\//, '')}`);
    node.stream = stream;
    node.url = url;
    markLink(node, 'connecting');
  } else {
    // Known by id before it ever answered: show it as connecting until it does.
    addNode(id, url, stream);
  }
}

function addNode(id, url, stream) {
  const node = { id, url, stream, snap: null, link: 'connecting', lastAt: 0, samples: [], card: makeCard(id), shard: null };
  nodes.set(id, node);
  arrange();
  return node;
}

/** What a node reported about another (its peer, or one its roll call found): follow it at that address. */
function learn(id, http, shard) {
  const known = nodes.get(id);
  if (http) {
    const url = `${location.protocol}//${http}`;
    if (!known) follow(id, url);
    else if (known.url !== url && known.link !== 'live') follow(id, url);
  } else if (!known) {
    // It exists but its address is not known yet: list it, waiting.
    addNode(id, null, null);
  }
  setShard(nodes.get(id), shard);
}

function setShard(node, shard) {
  if (typeof shard !== 'number' || node.shard === shard) return;
  node.shard = shard;
  arrange();
}

function onSnapshot(node, snap) {
  node.snap = snap;
  node.lastAt = Date.now();
  if (node.link !== 'live') markLink(node, 'live');
  node.samples.push({ t: snap.t, seq: snap.committedSeq });
  if (node.samples.length > SPARK_POINTS + 1) node.samples.shift();
  if (typeof snap.shards === 'number' && snap.shards !== shardCount) {
    shardCount = snap.shards;
    arrange();
  }
  setShard(node, snap.shard);
  // The peer (same shard) and every node of the cluster, where they last said they are.
  if (snap.peer) learn(snap.peer.nodeId, snap.peer.http, snap.shard);
  for (const c of snap.cluster ?? []) if (c.nodeId !== node.id) learn(c.nodeId, c.http, c.shard);
  render(node);
  highlight();
}

function markLink(node, link) {
  if (node.link === link) return;
  const was = node.link;
  node.link = link;
  if (link === 'lost' && was === 'live') addLinkEvent(node.id, 'stream lost: node unreachable');
  if (link === 'live' && was === 'lost') addLinkEvent(node.id, 'stream back');
  render(node);
  highlight();
}

// A stream can stay open while its node is frozen (SIGSTOP, a partition): silence counts as lost.
setInterval(() => {
  const now = Date.now();
  for (const node of nodes.values()) if (node.link === 'live' && now - node.lastAt > STALE_MS) markLink(node, 'lost');
}, 250);

// ---- node cards -----------------------------------------------------------------

function makeCard(id) {
  const card = document.getElementById('node-card').content.firstElementChild.cloneNode(true);
  card.id = `node-${id}`;
  card.dataset.node = id;
  card.querySelector('.name').textContent = id;
  return card;
}

/** Puts the cards in order (in one group per shard when there are several), then colours them. */
function arrange() {
  document.querySelector('header h1 .muted').textContent = shardCount > 1 ? `cluster of ${shardCount} shards` : 'pair';
  const sorted = [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
  const box = document.getElementById('nodes');
  if (shardCount <= 1) box.replaceChildren(...sorted.map((n) => n.card));
  else {
    const groups = new Map();
    for (const n of sorted) {
      const k = n.shard ?? -1;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(n.card);
    }
    const sections = [...groups.keys()]
      .sort((a, b) => a - b)
      .map((k) => {
        const section = document.createElement('section');
        section.className = 'shard';
        section.dataset.shard = String(k);
        const h = document.createElement('h2');
        h.textContent = k < 0 ? 'shard ?' : `shard ${k} of ${shardCount}`;
        section.append(h, ...groups.get(k));
        return section;
      });
    box.replaceChildren(...sections);
  }
  recolour();
}

function recolour() {
  for (const node of nodes.values()) {
    const c = colourOf(node.id);
    node.card.style.setProperty('--colour', c);
  }
  document.getElementById('legend').replaceChildren(
    ...[...nodes.keys()].sort().map((id) => {
      const s = document.createElement('span');
      s.className = 'key';
      s.innerHTML = `<span class="swatch" style="--colour:${colourOf(id)}"></span>${escapeHtml(id)}`;
      return s;
    }),
  );
  for (const li of document.querySelectorAll('#timeline .who')) li.style.setProperty('--colour', colourOf(li.textContent));
  highlight();
}

function render(node) {
  const card = node.card;
  const s = node.snap;
  card.dataset.link = node.link;
  card.dataset.role = s ? s.role : '';
  card.querySelector('.link').textContent = node.link === 'lost' ? 'lost' : node.link === 'live' ? 'live' : 'connecting…';
  card.querySelector('.address').textContent = node.url ? `${node.url.replace(/^https?:\/\//, '')}${s ? ` · pid ${s.pid}` : ''}` : 'unknown yet';
  if (!s) {
    card.querySelector('.role').textContent = '?';
    return;
  }
  card.querySelector('.role').textContent = s.role;
  card.querySelector('.epoch').textContent = s.epoch;
  card.querySelector('.last-seq').textContent = s.lastSeq;
  card.querySelector('.committed-seq').textContent = s.committedSeq;
  card.querySelector('.lag').textContent = s.lag.seq === null ? 'no replication stream' : `${s.lag.seq} seq · ${Math.round(s.lag.ms)} ms`;
  const hb = card.querySelector('.heartbeat');
  const h = s.heartbeat;
  if (!s.peer) {
    hb.textContent = 'standalone (no peer)';
    hb.className = 'heartbeat';
  } else if (h.silenceMs === null) {
    hb.textContent = `peer ${s.peer.nodeId} never heard`;
    hb.className = 'heartbeat hb-lost';
  } else {
    const timeout = h.intervalMs * h.missed;
    const missed = Math.floor(h.silenceMs / h.intervalMs);
    const state = h.silenceMs >= timeout ? 'hb-lost' : h.silenceMs > 2 * h.intervalMs ? 'hb-late' : 'hb-ok';
    hb.className = `heartbeat ${state}`;
    hb.textContent =
      state === 'hb-lost'
        ? `peer ${s.peer.nodeId} silent ${fmtMs(h.silenceMs)} (${missed} heartbeats missed)`
        : `peer ${s.peer.nodeId} heard ${Math.round(h.silenceMs)} ms ago (every ${h.intervalMs} ms)`;
  }
  sparkline(node);
}

function sparkline(node) {
  const pts = [];
  const xs = node.samples;
  for (let i = 1; i < xs.length; i++) {
    const dt = (xs[i].t - xs[i - 1].t) / 1000;
    pts.push(dt > 0 ? Math.max(0, xs[i].seq - xs[i - 1].seq) / dt : 0);
  }
  const max = Math.max(1, ...pts);
  const step = 160 / SPARK_POINTS;
  const x0 = 160 - pts.length * step;
  node.card
    .querySelector('.sparkline polyline')
    .setAttribute('points', pts.map((v, i) => `${(x0 + (i + 1) * step).toFixed(1)},${(31 - (v / max) * 29).toFixed(1)}`).join(' '));
  // The rate over the last second or so.
  const recent = xs.slice(-5);
  const span = recent.length > 1 ? (recent[recent.length - 1].t - recent[0].t) / 1000 : 0;
  const rate = span > 0 ? (recent[recent.length - 1].seq - recent[0].seq) / span : 0;
  node.card.querySelector('.rate').textContent = `${Math.round(rate)} upd/s`;
}

// ---- the diagram ----------------------------------------------------------------

function showDiagram(svgText) {
  document.getElementById('diagram').innerHTML = svgText;
  diagram = document.querySelector('#diagram svg');
  diagram.dataset.loaded = 'true';
  highlight();
}

async function loadDiagram() {
  for (;;) {
    try {
      const res = await fetch('diagram.svg', { cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return showDiagram(await res.text());
    } catch {
      // The serving node may be gone already: the peer serves the same diagram.
      const other = [...nodes.values()].find((n) => n.link === 'live' && n.url);
      if (other) {
        try {
          const res = await fetch(`${other.url}/diagram.svg`, { cache: 'no-store' });
          if (res.ok) return showDiagram(await res.text());
        } catch {
          /* try again below */
        }
      }
      await new Promise((r) => setTimeout(r, RECONNECT_MS));
    }
  }
}

/** Outlines, in each live node's colour, the state it is in. */
function highlight() {
  if (!diagram) return;
  // Markers live in an overlay group of their own, drawn last, above states and arrows.
  let overlay = diagram.querySelector('g.overlay');
  if (!overlay) {
    overlay = document.createElementNS(SVG_NS, 'g');
    overlay.setAttribute('class', 'overlay');
    diagram.appendChild(overlay);
  }
  overlay.replaceChildren();
  for (const g of diagram.querySelectorAll('g.state[data-nodes]')) {
    g.removeAttribute('data-nodes');
    g.classList.remove('here');
  }
  const byState = new Map();
  for (const node of [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    if (node.link !== 'live' || !node.snap) continue;
    const list = byState.get(node.snap.role) ?? [];
    list.push(node.id);
    byState.set(node.snap.role, list);
  }
  for (const [state, ids] of byState) {
    const g = diagram.querySelector(`g.state[data-state="${CSS.escape(state)}"]`);
    if (!g) continue;
    g.dataset.nodes = ids.join(' ');
    g.classList.add('here');
    const r = g.querySelector('rect');
    const x = +r.getAttribute('x');
    const y = +r.getAttribute('y');
    const w = +r.getAttribute('width');
    const h = +r.getAttribute('height');
    ids.forEach((id, i) => {
      const pad = 3 + i * 5;
      const ring = document.createElementNS(SVG_NS, 'rect');
      ring.setAttribute('class', 'marker');
      ring.setAttribute('x', x - pad);
      ring.setAttribute('y', y - pad);
      ring.setAttribute('width', w + 2 * pad);
      ring.setAttribute('height', h + 2 * pad);
      ring.setAttribute('rx', 10 + pad);
      ring.setAttribute('stroke', colourOf(id));
      overlay.appendChild(ring);
      const chip = document.createElementNS(SVG_NS, 'g');
      chip.setAttribute('class', 'chip');
      const cw = 8 + id.length * 7;
      const cx = x + w - cw - i * (cw + 4);
      chip.innerHTML = `<rect x="${cx}" y="${y - 10}" width="${cw}" height="15" rx="7" fill="${colourOf(id)}"/><text x="${cx + cw / 2}" y="${y + 1}" text-anchor="middle">${escapeHtml(id)}</text>`;
      overlay.appendChild(chip);
    });
  }
}

// ---- the timeline ---------------------------------------------------------------

function addTransition(t) {
  const key = `${t.node}|${t.t}|${t.from}|${t.to}`;
  if (timelineKeys.has(key)) return;
  timelineKeys.add(key);
  timeline.push({ kind: 'transition', ...t });
  renderTimeline();
}

function addLinkEvent(node, text) {
  timeline.push({ kind: 'link', node, t: Date.now(), text });
  renderTimeline();
}

function renderTimeline() {
  timeline.sort((a, b) => a.t - b.t);
  while (timeline.length > TIMELINE_MAX) {
    const gone = timeline.shift();
    if (gone.kind === 'transition') timelineKeys.delete(`${gone.node}|${gone.t}|${gone.from}|${gone.to}`);
  }
  const items = [...timeline].reverse().map((e) => {
    const li = document.createElement('li');
    const when = `<time>${fmtTime(e.t)}</time><span class="who" style="--colour:${colourOf(e.node)}">${escapeHtml(e.node)}</span>`;
    if (e.kind === 'link') {
      li.className = 'link-event';
      li.innerHTML = `${when}${escapeHtml(e.text)}`;
    } else {
      li.className = 'transition';
      li.dataset.node = e.node;
      li.dataset.to = e.to;
      li.innerHTML = `${when}${escapeHtml(e.from)} → <b>${escapeHtml(e.to)}</b> <span class="muted">epoch ${e.epoch}</span><span class="why">${escapeHtml(e.reason)}</span>`;
    }
    return li;
  });
  document.getElementById('timeline').replaceChildren(...items);
}

// ---- helpers --------------------------------------------------------------------

function fmtTime(t) {
  const d = new Date(t);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function fmtMs(ms) {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms)} ms`;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

open(location.origin);
loadDiagram();
