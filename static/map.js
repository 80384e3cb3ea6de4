// renmai stakeholder map: draws /accounts/{id}/map.json.
// Node colour = our closeness level, size = influence, badge = buying role,
// border = attitude. Reports-to lines are solid, influence lines dashed, our
// ties (toggle) green. Clicking a person fills the side panel. The page's
// table stays the no-JavaScript view; this file only adds to it.
//
// Two renderers: Cytoscape.js with a dagre layout for accounts of up to
// DAGRE_MAX people, and bigmap.js's canvas at the server's org-chart
// positions above that (or whenever Cytoscape is not on the page: the
// server leaves it off large accounts' pages).
"use strict";

(function () {
  const box = document.getElementById("map");
  const haveCy = typeof window.cytoscape === "function" && hasDagre();
  const haveCanvas = typeof window.renmaiCanvasMap === "function";
  if (!box || (!haveCy && !haveCanvas)) return;
  const status = document.getElementById("map-status");
  const panel = document.getElementById("panel");
  const showOurs = document.getElementById("show-ours");
  const showInfluence = document.getElementById("show-influence");
  const highlight = JSON.parse(box.dataset.highlight || "null");

  const LEVEL = ["#c7ccd4", "#9ec5e8", "#5aa0d8", "#2a6fb8", "#153e75"];
  const BORDER = {
    champion: "#1e7b4a", supporter: "#5fae7e", neutral: "#8a93a3",
    skeptic: "#d08a00", opponent: "#b3261e", unknown: "#c7ccd4", ours: "#1e7b4a",
  };
  const BADGE = {
    economic_buyer: "EB", technical_buyer: "TB", user_buyer: "UB", coach: "C",
    procurement: "P", gatekeeper: "G", influencer: "I",
  };
  // Above this many people (ours included) dagre's layout and Cytoscape's
  // drawing take seconds in the browser: the canvas renderer takes over.
  const DAGRE_MAX = 300;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  }
  function link(l) { return el("a", { href: l.href }, l.name); }

  function showPanel(n) {
    panel.replaceChildren();
    panel.append(el("h2", {}, link({ href: n.href, name: n.name })));
    const facts = el("dl", { class: "facts" });
    const add = (k, v) => { if (v !== "" && v != null) facts.append(el("dt", {}, k), el("dd", {}, v)); };
    add("Title", n.title);
    add("Department", n.department);
    add("Level", n.level);
    if (n.ours) {
      add("Our team", n.why);
    } else {
      add("Buying role", n.role_label);
      add("Attitude", n.attitude);
      add("Our closeness", n.closeness_text + " · " + n.clevel_name);
      add("Best connector", n.connector ? link(n.connector) : "nobody yet");
      add("Last contact", n.last_contact);
      add("Influence", n.influence_text + (n.broker ? " · broker" : ""));
    }
    panel.append(facts);
    if (!n.ours) {
      panel.append(el("p", { class: "why" }, n.why));
      if (n.lift) panel.append(el("p", { class: "lift" }, "To lift it: " + n.lift));
      panel.append(el("p", {}, link({ href: n.href, name: "Person page" }), " · ",
        link({ href: n.paths_href, name: "Warm paths" })));
    }
    panel.focus({ preventScroll: true });
  }

  /** How a person is drawn, the same in both renderers. */
  function look(n) {
    return {
      label: n.ours ? n.name + "\n(our team)" : (BADGE[n.role] ? n.name + "\n" + BADGE[n.role] : n.name),
      fill: n.ours ? "#e9f5ee" : LEVEL[n.clevel],
      border: BORDER[n.attitude] || BORDER.unknown,
      size: n.ours ? 26 : Math.round(18 + 42 * Math.sqrt(Math.max(0, n.influence))),
    };
  }

  // The page preloads the JSON (<link rel=preload>), so this usually
  // finds it already fetched.
  fetch(box.dataset.src, { headers: { Accept: "application/json" } })
    .then((r) => { if (!r.ok) throw new Error("the map data answered " + r.status); return r.json(); })
    .then((data) => {
      box.dataset.fetchedMs = String(Math.round(performance.now()));
      const byId = new Map(data.nodes.map((n) => [n.id, n]));
      const onPath = new Set(highlight || []);
      const pathPairs = new Set();
      if (highlight) for (let i = 1; i < highlight.length; i++) pathPairs.add(highlight[i - 1] + "\u0000" + highlight[i]);
      const isOnPath = (a, b) => pathPairs.has(a + "\u0000" + b) || pathPairs.has(b + "\u0000" + a);
      // Hops of the highlighted path that are not drawn already (a KNOWS
      // line, a reports-to line walked upward) get their own edge.
      const hops = [];
      if (highlight) {
        for (let k = 1; k < highlight.length; k++) {
          const a = highlight[k - 1], b = highlight[k];
          const drawn = data.edges.some((e) => (e.source === a && e.target === b) || (e.source === b && e.target === a));
          if (!drawn && byId.has(a) && byId.has(b)) hops.push({ source: a, target: b });
        }
      }
      const useCanvas = haveCanvas && (!haveCy || data.nodes.length > DAGRE_MAX);
      const map = (useCanvas ? canvasMap : cytoscapeMap)(data, byId, onPath, isOnPath, hops);
      box.dataset.drawnMs = String(Math.round(performance.now()));

      if (showOurs) showOurs.addEventListener("change", () => { map.setOurs(showOurs.checked); map.fit(); });
      if (showInfluence) showInfluence.addEventListener("change", () => map.setInfluence(showInfluence.checked));
      const fitBtn = document.getElementById("fit");
      if (fitBtn) fitBtn.addEventListener("click", () => map.fit());
      // For the end-to-end test and the benchmark: centres a person (the
      // first stakeholder if no id) and returns where to click.
      window.renmaiMapLocate = map.locate;

      // Ready once the first frame with every node is drawn (the map
      // answers clicks from then on), timed from navigation start.
      map.whenDrawn(() => {
        const ms = Math.round(performance.now());
        const them = data.nodes.filter((n) => !n.ours).length;
        box.dataset.nodes = String(them);
        box.dataset.rendered = String(map.rendered());
        box.dataset.readyMs = String(ms);
        box.dataset.ready = "1";
        if (status) status.textContent = them + " stakeholders · drawn in " + ms + " ms";
      });
    })
    .catch((err) => {
      if (status) status.textContent = "The map could not be drawn (" + err.message + "); the table below has every stakeholder.";
      box.dataset.error = err.message;
    });

  /** A large account: bigmap.js's canvas at the server's positions. */
  function canvasMap(data, byId, onPath, isOnPath, hops) {
    const index = new Map(data.nodes.map((n, i) => [n.id, i]));
    const nodes = data.nodes.map((n) => ({ id: n.id, x: n.x, y: n.y, ours: n.ours, onpath: onPath.has(n.id), ...look(n) }));
    const edges = [];
    for (const e of data.edges) {
      const s = index.get(e.source), t = index.get(e.target);
      if (s === undefined || t === undefined) continue;
      edges.push({ source: s, target: t, kind: e.kind, w: e.strength, onpath: isOnPath(e.source, e.target) });
    }
    for (const h of hops) edges.push({ source: index.get(h.source), target: index.get(h.target), kind: "hop", w: 1, onpath: false });
    const m = window.renmaiCanvasMap(box, nodes, edges, {
      showOurs: showOurs && showOurs.checked,
      showInfluence: !showInfluence || showInfluence.checked,
      minZoom: 0.02,
      maxZoom: 3,
      onTap: (id) => { const n = id && byId.get(id); if (n) showPanel(n); },
    });
    window.renmaiMap = m;
    const first = data.nodes.find((n) => !n.ours);
    return {
      setOurs: m.setShowOurs,
      setInfluence: m.setShowInfluence,
      fit: () => m.fit(20),
      rendered: m.rendered,
      locate: (id) => {
        const which = id || (first && first.id);
        const p = m.locate(which);
        return p && { ...p, id: which };
      },
      // The canvas is drawn already; the next frame puts it on screen.
      whenDrawn: (fn) => requestAnimationFrame(() => fn()),
    };
  }

  /** An account of up to DAGRE_MAX people: Cytoscape.js with dagre. */
  function cytoscapeMap(data, byId, onPath, isOnPath, hops) {
    const elements = [];
    for (const n of data.nodes) {
      elements.push({
        group: "nodes",
        data: { id: n.id, ...look(n) },
        classes: (n.ours ? "ours" : "them") + (onPath.has(n.id) ? " onpath" : ""),
      });
    }
    let i = 0;
    // Our ties are added when first shown: most visits never turn them on.
    const later = [];
    for (const e of data.edges) {
      if (!byId.has(e.source) || !byId.has(e.target)) continue;
      const onp = isOnPath(e.source, e.target);
      const edge = { group: "edges", data: { id: "e" + (i++), source: e.source, target: e.target, w: e.strength }, classes: e.kind + (onp ? " onpath" : "") };
      (e.kind === "tie" && !onp ? later : elements).push(edge);
    }
    hops.forEach((h, k) => elements.push({ group: "edges", data: { id: "p" + k, source: h.source, target: h.target, w: 1 }, classes: "hop onpath" }));
    const cy = window.cytoscape({
      container: box,
      elements,
      wheelSensitivity: 0.3,
      minZoom: 0.02,
      maxZoom: 3,
      style: [
        { selector: "node", style: {
          "background-color": "data(fill)", width: "data(size)", height: "data(size)",
          "border-width": 3, "border-color": "data(border)", label: "data(label)",
          "font-size": 11, "text-valign": "bottom", "text-margin-y": 3, color: "#1d2430",
          "text-wrap": "wrap", "text-max-width": 120, "min-zoomed-font-size": 6,
        } },
        { selector: "node.ours", style: { shape: "round-rectangle", "border-style": "double", "border-width": 4 } },
        { selector: "edge", style: { width: 1.2, "curve-style": "bezier", "line-color": "#98a2b3", "target-arrow-shape": "none" } },
        { selector: "edge.reports", style: { "curve-style": "taxi", "taxi-direction": "downward", "line-color": "#98a2b3" } },
        { selector: "edge.influence", style: { "line-style": "dashed", "line-color": "#c98a2b", opacity: 0.55, width: "mapData(w, 0, 1, 0.8, 3)", "target-arrow-shape": "triangle", "target-arrow-color": "#a15c00", "arrow-scale": 0.7 } },
        { selector: "edge.tie", style: { "line-color": "#1e7b4a", width: "mapData(w, 0, 1, 1, 4)", opacity: 0.7 } },
        { selector: "edge.hop", style: { "line-style": "dotted" } },
        { selector: ".onpath", style: { "z-index": 10 } },
        { selector: "edge.onpath", style: { "line-color": "#f2b705", width: 5, opacity: 1 } },
        { selector: "node.onpath", style: { "overlay-color": "#f2b705", "overlay-opacity": 0.35, "overlay-padding": 6 } },
        { selector: "node:selected", style: { "overlay-color": "#1f5fbf", "overlay-opacity": 0.25, "overlay-padding": 6 } },
        { selector: ".hidden", style: { display: "none" } },
      ],
      layout: { name: "preset", fit: false },
    });
    window.renmaiMap = cy;

    // Our people sit in a row above the customer's org chart.
    function placeOurs() {
      const them = cy.nodes(".them");
      if (!them.length) return;
      const bb = them.boundingBox({ includeLabels: false });
      const ours = cy.nodes(".ours");
      const step = bb.w / Math.max(1, ours.length);
      ours.forEach((n, k) => n.position({ x: bb.x1 + step * (k + 0.5), y: bb.y1 - 120 }));
    }
    function applyToggles() {
      const ours = showOurs && showOurs.checked;
      if (ours && later.length) cy.add(later.splice(0));
      cy.batch(() => {
        cy.nodes(".ours").forEach((n) => { if (ours || n.hasClass("onpath")) n.removeClass("hidden"); else n.addClass("hidden"); });
        cy.edges(".tie").forEach((e) => { if (ours || e.hasClass("onpath")) e.removeClass("hidden"); else e.addClass("hidden"); });
        cy.edges(".influence").forEach((e) => { if (!showInfluence || showInfluence.checked || e.hasClass("onpath")) e.removeClass("hidden"); else e.addClass("hidden"); });
      });
    }
    applyToggles();
    cy.on("tap", "node", (ev) => {
      const n = byId.get(ev.target.id());
      if (n) showPanel(n);
    });
    window.addEventListener("resize", () => cy.resize());

    let drawn = false, waiting = [];
    // The org chart alone decides the ranks; influence lines and our ties
    // are drawn over it.
    const run = cy.elements("node.them, edge.reports").layout({ name: "dagre", rankDir: "TB", nodeSep: 14, rankSep: 60, fit: false, animate: false });
    run.one("layoutstop", () => {
      placeOurs();
      cy.resize();
      const onp = cy.elements(".onpath");
      cy.fit(onp.length ? onp : cy.nodes(":visible"), 30);
      // Cytoscape draws in an animation-frame callback registered when the
      // graph was built; one registered now runs after it in the same frame.
      requestAnimationFrame(() => { drawn = true; waiting.splice(0).forEach((f) => f()); });
    });
    run.run();
    return {
      setOurs: applyToggles,
      setInfluence: applyToggles,
      fit: () => cy.fit(cy.elements(":visible"), 20),
      rendered: () => cy.nodes(".them").length,
      locate: (id) => {
        const n = id ? cy.getElementById(id) : cy.nodes(".them").first();
        cy.center(n);
        const p = n.renderedPosition();
        const r = box.getBoundingClientRect();
        return { x: r.left + p.x, y: r.top + p.y, id: n.id() };
      },
      whenDrawn: (fn) => (drawn ? fn() : waiting.push(fn)),
    };
  }

  function hasDagre() {
    try { return typeof window.cytoscape === "function" && !!window.cytoscape("layout", "dagre"); } catch (_) { return false; }
  }
})();
