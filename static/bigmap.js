// renmai's canvas map for large accounts (map.js uses it above a few hundred
// people; smaller maps stay with Cytoscape.js and dagre).
//
// Why not Cytoscape for these too: it styles, measures and texture-caches
// every element before its first frame, and redraws through the same
// machinery. At 2,300 people and 3,500 lines that took 3–6 s to the first
// frame in headless Chromium on a 2-core machine, and each later frame
// (a pan, a zoom) over a second. This draws the same picture (the server's
// org-chart positions; map.js's colours, sizes, borders and line kinds)
// straight onto one canvas in a few milliseconds a frame, so the map opens
// at once and pans and zooms smoothly.
//
// renmaiCanvasMap(box, nodes, edges, opts) -> map
//   nodes: [{ id, x, y, size, fill, border, label, ours, onpath }]
//   edges: [{ source, target, kind: reports|influence|tie|hop, w, onpath }]
//          (source/target are indexes into nodes)
//   opts:  { showOurs, showInfluence, onTap(id|null), minZoom, maxZoom }
"use strict";

window.renmaiCanvasMap = function (box, nodes, edges, opts) {
  const MIN_ZOOM = opts.minZoom || 0.02;
  const MAX_ZOOM = opts.maxZoom || 3;
  const FONT = 11; // world units, as in map.js's Cytoscape style
  const MIN_FONT = 6; // screen px below which names are not drawn
  const TAP_SLOP = 4; // px a press may move and still count as a click
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Stakeholder map; the table below lists the same people.");
  canvas.tabIndex = 0;
  canvas.style.display = "block";
  canvas.style.touchAction = "none";
  canvas.style.outline = "none";
  box.replaceChildren(canvas);
  const ctx = canvas.getContext("2d");

  let showOurs = !!opts.showOurs;
  let showInfluence = opts.showInfluence !== false;
  let zoom = 1, panX = 0, panY = 0, width = 0, height = 0, dpr = 0;
  let selected = -1;
  let queued = false;
  // Until the reader pans or zooms, a change of the box's size (the page
  // still loading below the map, a scrollbar appearing) refits the view.
  let touched = false;

  // Nodes are drawn grouped by fill and border colour (one path per group),
  // path nodes last so they stay on top.
  const order = nodes.map((_, i) => i).sort((a, b) => {
    const p = (nodes[a].onpath ? 1 : 0) - (nodes[b].onpath ? 1 : 0);
    if (p) return p;
    const ka = nodes[a].fill + nodes[a].border, kb = nodes[b].fill + nodes[b].border;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });

  const nodeVisible = (n) => !n.ours || showOurs || n.onpath;
  function edgeVisible(e) {
    if (!nodeVisible(nodes[e.source]) || !nodeVisible(nodes[e.target])) return false;
    if (e.onpath || e.kind === "reports" || e.kind === "hop") return true;
    return e.kind === "tie" ? showOurs : showInfluence;
  }

  const sx = (x) => x * zoom + panX;
  const sy = (y) => y * zoom + panY;

  /** Matches the canvas to the box; false when nothing changed (setting a
   *  canvas's size clears it, so it is left alone then). */
  function sizeCanvas() {
    const r = box.getBoundingClientRect();
    const w = Math.max(1, Math.round(r.width)), h = Math.max(1, Math.round(r.height));
    const ratio = window.devicePixelRatio || 1;
    if (w === width && h === height && ratio === dpr) return false;
    width = w;
    height = h;
    dpr = ratio;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    return true;
  }

  /** True when the segment's bounding box touches the visible area. */
  function onScreen(x1, y1, x2, y2, pad) {
    return Math.max(x1, x2) >= -pad && Math.min(x1, x2) <= width + pad &&
      Math.max(y1, y2) >= -pad && Math.min(y1, y2) <= height + pad;
  }

  // Line styles per edge kind, widths in world units (as in Cytoscape).
  const LINE = {
    reports: { color: "#98a2b3", alpha: 1, width: () => 1.2 },
    // Fainter when zoomed far out, where hundreds of crossing dashes would
    // hide the org chart; as in Cytoscape from about half size.
    influence: { color: "#c98a2b", alpha: () => 0.55 * Math.min(1, 0.35 + zoom * 1.3), width: (w) => 0.8 + 2.2 * w, dash: [6, 4] },
    tie: { color: "#1e7b4a", alpha: 0.7, width: (w) => 1 + 3 * w },
    // The walked path stays bold however far out the reader zooms.
    hop: { color: "#f2b705", alpha: 1, width: () => 5, dash: [2, 3], minPx: 3 },
    onpath: { color: "#f2b705", alpha: 1, width: () => 5, minPx: 3 },
  };

  function strokeEdges(list, style) {
    // Bucket by on-screen width so each bucket is one stroke.
    const buckets = new Map();
    for (const e of list) {
      const px = Math.max(style.minPx || 0.5, Math.round(style.width(e.w) * zoom * 4) / 4);
      let b = buckets.get(px);
      if (!b) buckets.set(px, (b = []));
      b.push(e);
    }
    ctx.strokeStyle = style.color;
    ctx.globalAlpha = typeof style.alpha === "function" ? style.alpha() : style.alpha;
    // Dashes keep a readable length on screen: scaled down with the zoom
    // they would become thousands of one-pixel dashes, slow to rasterize.
    ctx.setLineDash(style.dash ? style.dash.map((d) => Math.max(d * 0.6, d * Math.min(1, zoom * 2))) : []);
    for (const [px, b] of buckets) {
      ctx.lineWidth = px;
      ctx.beginPath();
      for (const e of b) {
        const a = nodes[e.source], t = nodes[e.target];
        ctx.moveTo(sx(a.x), sy(a.y));
        ctx.lineTo(sx(t.x), sy(t.y));
      }
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  }

  /** Influence arrowheads, once they are big enough to see. */
  function arrows(list) {
    const len = 9 * zoom;
    if (len < 3) return;
    ctx.fillStyle = "#a15c00";
    ctx.globalAlpha = LINE.influence.alpha();
    ctx.beginPath();
    for (const e of list) {
      const a = nodes[e.source], t = nodes[e.target];
      const dx = t.x - a.x, dy = t.y - a.y, d = Math.hypot(dx, dy);
      if (d < 1) continue;
      const ux = dx / d, uy = dy / d;
      const tipX = sx(t.x - ux * (t.size / 2 + 1.5)), tipY = sy(t.y - uy * (t.size / 2 + 1.5));
      ctx.moveTo(tipX, tipY);
      ctx.lineTo(tipX - ux * len - uy * len * 0.45, tipY - uy * len + ux * len * 0.45);
      ctx.lineTo(tipX - ux * len + uy * len * 0.45, tipY - uy * len - ux * len * 0.45);
      ctx.closePath();
    }
    ctx.fill();
    ctx.globalAlpha = 1;
  }

  function nodePath(n, grow) {
    const r = n.size / 2 * zoom + grow;
    const x = sx(n.x), y = sy(n.y);
    if (n.ours) {
      ctx.roundRect(x - r, y - r, 2 * r, 2 * r, Math.min(r, 4 * zoom + grow));
    } else {
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, 2 * Math.PI);
    }
  }

  function draw() {
    queued = false;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const byKind = { reports: [], influence: [], tie: [], hop: [], onpath: [] };
    for (const e of edges) {
      if (!edgeVisible(e)) continue;
      const a = nodes[e.source], t = nodes[e.target];
      if (!onScreen(sx(a.x), sy(a.y), sx(t.x), sy(t.y), 10)) continue;
      byKind[e.onpath ? "onpath" : e.kind].push(e);
    }
    for (const k of ["reports", "influence", "tie", "hop", "onpath"]) {
      if (byKind[k].length) strokeEdges(byKind[k], k === "hop" ? LINE.hop : LINE[k]);
    }
    arrows(byKind.influence);

    // Nodes: one fill and one border stroke per colour group.
    const border = 3 * zoom;
    let i = 0;
    while (i < order.length) {
      const first = nodes[order[i]];
      const fill = first.fill, stroke = first.border, lit = first.onpath;
      ctx.beginPath();
      let any = false;
      for (; i < order.length; i++) {
        const n = nodes[order[i]];
        if (n.fill !== fill || n.border !== stroke || n.onpath !== lit) break;
        if (!nodeVisible(n)) continue;
        const r = n.size / 2 * zoom + border;
        if (!onScreen(sx(n.x) - r, sy(n.y) - r, sx(n.x) + r, sy(n.y) + r, 0)) continue;
        nodePath(n, 0);
        any = true;
      }
      if (!any) continue;
      ctx.fillStyle = fill;
      ctx.fill();
      if (border >= 0.5) {
        ctx.strokeStyle = stroke;
        ctx.lineWidth = first.ours ? 4 * zoom : border;
        ctx.stroke();
      }
    }
    // Highlights over the nodes: the walked path, then the selection.
    ctx.beginPath();
    for (const n of nodes) if (n.onpath && nodeVisible(n)) nodePath(n, Math.max(6, 6 * zoom + 2));
    ctx.fillStyle = "rgba(242, 183, 5, 0.35)";
    ctx.fill();
    if (selected >= 0 && nodeVisible(nodes[selected])) {
      ctx.beginPath();
      nodePath(nodes[selected], 6 * zoom + 2);
      ctx.fillStyle = "rgba(31, 95, 191, 0.25)";
      ctx.fill();
    }
    // Names, once they are large enough to read.
    const font = FONT * zoom;
    if (font >= MIN_FONT) {
      ctx.font = font.toFixed(1) + "px Helvetica Neue, Helvetica, Arial, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillStyle = "#1d2430";
      for (const n of nodes) {
        if (!nodeVisible(n)) continue;
        const x = sx(n.x), y = sy(n.y + n.size / 2 + 3);
        if (x < -150 || x > width + 150 || y < -3 * font || y > height) continue;
        const lines = n.label.split("\n");
        for (let k = 0; k < lines.length; k++) ctx.fillText(lines[k], x, y + k * font * 1.2);
      }
    }
  }

  function redraw() {
    if (!queued) {
      queued = true;
      requestAnimationFrame(draw);
    }
  }

  function clampZoom(z) { return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z)); }

  /** Zooms by `factor` keeping the screen point (x, y) where it is. */
  function zoomAt(factor, x, y) {
    touched = true;
    const z = clampZoom(zoom * factor);
    panX = x - (x - panX) * (z / zoom);
    panY = y - (y - panY) * (z / zoom);
    zoom = z;
    redraw();
  }

  /** Fits the given nodes (default: every visible one) with `pad` px around,
   *  zoomed in no further than `most`. */
  function fit(which, pad, most) {
    const list = (which || nodes).filter(nodeVisible);
    if (!list.length) return;
    let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
    for (const n of list) {
      const r = n.size / 2 + 3;
      x1 = Math.min(x1, n.x - r); x2 = Math.max(x2, n.x + r);
      y1 = Math.min(y1, n.y - r); y2 = Math.max(y2, n.y + r);
    }
    const p = pad == null ? 30 : pad;
    zoom = clampZoom(Math.min(most || MAX_ZOOM, (width - 2 * p) / Math.max(1, x2 - x1), (height - 2 * p) / Math.max(1, y2 - y1)));
    panX = (width - zoom * (x1 + x2)) / 2;
    panY = (height - zoom * (y1 + y2)) / 2;
    redraw();
  }

  /** The visible node under the screen point, if any (the nearest centre). */
  function hit(x, y) {
    let best = -1, bestD = Infinity;
    for (let k = 0; k < nodes.length; k++) {
      const n = nodes[k];
      if (!nodeVisible(n)) continue;
      const d = Math.hypot(sx(n.x) - x, sy(n.y) - y);
      if (d <= n.size / 2 * zoom + 3 && d < bestD) { best = k; bestD = d; }
    }
    return best;
  }

  function local(ev) {
    const r = canvas.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  }

  // Pointer input: drag pans, two fingers pinch-zoom, a press that does
  // not move is a click.
  const down = new Map(); // pointer id -> { x, y } last seen
  let start = null, moved = false, pinch = null;
  canvas.addEventListener("pointerdown", (ev) => {
    canvas.setPointerCapture(ev.pointerId);
    const p = local(ev);
    down.set(ev.pointerId, p);
    if (down.size === 1) { start = p; moved = false; }
    if (down.size === 2) {
      const [a, b] = [...down.values()];
      pinch = Math.hypot(a.x - b.x, a.y - b.y);
      moved = true;
    }
  });
  canvas.addEventListener("pointermove", (ev) => {
    const p = local(ev);
    const last = down.get(ev.pointerId);
    if (!last) {
      canvas.style.cursor = hit(p.x, p.y) >= 0 ? "pointer" : "grab";
      return;
    }
    if (down.size === 2) {
      down.set(ev.pointerId, p);
      const [a, b] = [...down.values()];
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      if (pinch > 0) zoomAt(d / pinch, (a.x + b.x) / 2, (a.y + b.y) / 2);
      pinch = d;
      return;
    }
    if (!moved && Math.hypot(p.x - start.x, p.y - start.y) < TAP_SLOP) return;
    moved = true;
    touched = true;
    canvas.style.cursor = "grabbing";
    panX += p.x - last.x;
    panY += p.y - last.y;
    down.set(ev.pointerId, p);
    redraw();
  });
  const up = (ev) => {
    const was = down.get(ev.pointerId);
    down.delete(ev.pointerId);
    if (down.size < 2) pinch = null;
    if (!down.size) canvas.style.cursor = "grab";
    if (ev.type !== "pointerup" || !was || moved || down.size) return;
    const p = local(ev);
    const k = hit(p.x, p.y);
    selected = k;
    redraw();
    if (opts.onTap) opts.onTap(k >= 0 ? nodes[k].id : null);
  };
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const p = local(ev);
    const dy = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;
    zoomAt(Math.exp(-dy * 0.0015), p.x, p.y);
  }, { passive: false });
  // Keyboard: arrows pan, + and - zoom about the centre.
  canvas.addEventListener("keydown", (ev) => {
    const step = 60;
    const keys = {
      ArrowLeft: () => { panX += step; }, ArrowRight: () => { panX -= step; },
      ArrowUp: () => { panY += step; }, ArrowDown: () => { panY -= step; },
      "+": () => zoomAt(1.25, width / 2, height / 2), "=": () => zoomAt(1.25, width / 2, height / 2),
      "-": () => zoomAt(0.8, width / 2, height / 2),
    };
    if (keys[ev.key]) { ev.preventDefault(); touched = true; keys[ev.key](); redraw(); }
  });

  sizeCanvas();
  const lit = nodes.filter((n) => n.onpath);
  // A short highlighted path opens at natural size, not blown up.
  const home = () => fit(lit.length ? lit : null, 30, 1);
  home();
  draw();
  // Redraw when the box changes size (window, layout); the observer's
  // first call, for the size just measured, draws nothing new.
  new ResizeObserver(() => {
    if (!sizeCanvas()) return;
    if (!touched) home();
    draw();
  }).observe(box);

  const index = new Map(nodes.map((n, k) => [n.id, k]));
  return {
    fit: (pad) => fit(null, pad),
    setShowOurs(v) { showOurs = !!v; redraw(); },
    setShowInfluence(v) { showInfluence = !!v; redraw(); },
    /** Stakeholders (not our people) drawn: all of them, always. */
    rendered: () => nodes.filter((n) => !n.ours).length,
    /** Centres the node and returns its position in the page's viewport. */
    locate(id) {
      const k = index.get(id);
      if (k === undefined) return null;
      panX = width / 2 - nodes[k].x * zoom;
      panY = height / 2 - nodes[k].y * zoom;
      draw();
      const r = canvas.getBoundingClientRect();
      return { x: r.left + sx(nodes[k].x), y: r.top + sy(nodes[k].y) };
    },
    zoom: () => zoom,
    /** Pixels drawn on the canvas (not blank), for the end-to-end test. */
    inked() {
      const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let k = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) k++;
      return k;
    },
    /** People on the highlighted path, as drawn. */
    lit: () => nodes.filter((n) => n.onpath && nodeVisible(n)).length,
  };
};
