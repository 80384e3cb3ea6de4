// renmai stakeholder map: draws /accounts/{id}/map.json with Cytoscape.js.
// Node colour = our closeness level, size = influence, badge = buying role,
// border = attitude. Reports-to lines are solid, influence lines dashed, our
// ties (toggle) green. Clicking a person fills the side panel. The page's
// table stays the no-JavaScript view; this file only adds to it.
"use strict";

(function () {
  const box = document.getElementById("map");
  if (!box || typeof window.cytoscape !== "function") return;
  const status = document.getElementById("map-status");
  const panel = document.getElementById("panel");
  const showOurs = document.getElementById("show-ours");
  const showInfluence = document.getElementById("show-influence");
  const highlight = JSON.parse(box.dataset.highlight || "null");

  const LEVEL = ["#c7ccd4", "#9ec5e8", "#5aa0d8", "#2a6fb8", "#153e75"];
  const TEXT = ["#1d2430", "#1d2430", "#1d2430", "#ffffff", "#ffffff"];
  const BORDER = {
    champion: "#1e7b4a", supporter: "#5fae7e", neutral: "#8a93a3",
    skeptic: "#d08a00", opponent: "#b3261e", unknown: "#c7ccd4", ours: "#1e7b4a",
  };
  const BADGE = {
    economic_buyer: "EB", technical_buyer: "TB", user_buyer: "UB", coach: "C",
    procurement: "P", gatekeeper: "G", influencer: "I",
  };
  // Above this many people dagre's layout takes too long in the browser:
  // the server's top-down tree positions are used as they are.
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

  fetch(box.dataset.src, { headers: { Accept: "application/json" } })
    .then((r) => { if (!r.ok) throw new Error("the map data answered " + r.status); return r.json(); })
    .then((data) => {
      box.dataset.fetchedMs = String(Math.round(performance.now()));
      const byId = new Map(data.nodes.map((n) => [n.id, n]));
      const onPath = new Set(highlight || []);
      const pathPairs = new Set();
      if (highlight) for (let i = 1; i < highlight.length; i++) pathPairs.add(highlight[i - 1] + "\u0000" + highlight[i]);
      const elements = [];
      for (const n of data.nodes) {
        elements.push({
          group: "nodes",
          data: {
            id: n.id, label: n.ours ? n.name + "\n(our team)" : (BADGE[n.role] ? n.name + "\n" + BADGE[n.role] : n.name),
            fill: n.ours ? "#e9f5ee" : LEVEL[n.clevel], text: n.ours ? "#1d2430" : TEXT[n.clevel],
            border: BORDER[n.attitude] || BORDER.unknown,
            size: n.ours ? 26 : Math.round(18 + 42 * Math.sqrt(Math.max(0, n.influence))),
          },
          classes: (n.ours ? "ours" : "them") + (onPath.has(n.id) ? " onpath" : ""),
          position: { x: n.x, y: n.y },
        });
      }
      let i = 0;
      // Our ties are added when first shown: on a large account they are
      // many, and most visits never turn them on.
      const later = [];
      for (const e of data.edges) {
        if (!byId.has(e.source) || !byId.has(e.target)) continue;
        const onp = pathPairs.has(e.source + "\u0000" + e.target) || pathPairs.has(e.target + "\u0000" + e.source);
        const edge = { group: "edges", data: { id: "e" + (i++), source: e.source, target: e.target, w: e.strength }, classes: e.kind + (onp ? " onpath" : "") };
        (e.kind === "tie" && !onp ? later : elements).push(edge);
      }
      // Hops of the highlighted path that are not drawn already (a KNOWS
      // line, a reports-to line walked upward) get their own edge.
      if (highlight) {
        for (let k = 1; k < highlight.length; k++) {
          const a = highlight[k - 1], b = highlight[k];
          const drawn = elements.some((x) => x.group === "edges" && x.classes.includes("onpath") &&
            ((x.data.source === a && x.data.target === b) || (x.data.source === b && x.data.target === a)));
          if (!drawn && byId.has(a) && byId.has(b)) elements.push({ group: "edges", data: { id: "p" + k, source: a, target: b, w: 1 }, classes: "hop onpath" });
        }
      }
      const big = data.nodes.length > DAGRE_MAX || !hasDagre();
      const cy = window.cytoscape({
        container: box,
        elements,
        wheelSensitivity: 0.3,
        minZoom: 0.02,
        maxZoom: 3,
        textureOnViewport: big,
        hideEdgesOnViewport: big,
        pixelRatio: big ? 1 : "auto",
        style: [
          { selector: "node", style: {
            "background-color": "data(fill)", width: "data(size)", height: "data(size)",
            "border-width": 3, "border-color": "data(border)", label: big ? "" : "data(label)",
            "font-size": 11, "text-valign": "bottom", "text-margin-y": 3, color: "#1d2430",
            "text-wrap": big ? "none" : "wrap", "text-max-width": 120, "min-zoomed-font-size": 6,
          } },
          { selector: "node.ours", style: { shape: "round-rectangle", "border-style": "double", "border-width": 4 } },
          { selector: "edge", style: { width: 1.2, "curve-style": "bezier", "line-color": "#98a2b3", "target-arrow-shape": "none" } },
          { selector: "edge.reports", style: { "curve-style": big ? "haystack" : "taxi", "taxi-direction": "downward", "line-color": "#98a2b3" } },
          { selector: "edge.influence", style: { "line-style": "dashed", "line-color": "#c98a2b", opacity: 0.55, width: "mapData(w, 0, 1, 0.8, 3)", "target-arrow-shape": "triangle", "target-arrow-color": "#a15c00", "arrow-scale": 0.7 } },
          { selector: "edge.tie", style: { "line-color": "#1e7b4a", width: "mapData(w, 0, 1, 1, 4)", opacity: 0.7 } },
          { selector: "edge.hop", style: { "line-style": "dotted" } },
          { selector: ".onpath", style: { "z-index": 10 } },
          { selector: "edge.onpath", style: { "line-color": "#f2b705", width: 5, opacity: 1 } },
          { selector: "node.onpath", style: { "overlay-color": "#f2b705", "overlay-opacity": 0.35, "overlay-padding": 6 } },
          { selector: "node:selected", style: { "overlay-color": "#1f5fbf", "overlay-opacity": 0.25, "overlay-padding": 6 } },
          { selector: "node.lbl", style: { label: "data(label)" } },
          { selector: ".hidden", style: { display: "none" } },
        ],
        layout: { name: "preset", fit: false },
      });
      // On a large account, names are measured and drawn only once the
      // reader zooms in far enough to read them.
      if (big) {
        let labelled = false;
        cy.on("zoom", () => {
          const want = cy.zoom() >= 0.45;
          if (want !== labelled) {
            labelled = want;
            cy.batch(() => (want ? cy.nodes().addClass("lbl") : cy.nodes().removeClass("lbl")));
          }
        });
      }
      box.dataset.drawnMs = String(Math.round(performance.now()));
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
      if (showOurs) showOurs.addEventListener("change", () => { applyToggles(); cy.fit(cy.elements(":visible"), 20); });
      if (showInfluence) showInfluence.addEventListener("change", applyToggles);
      const fitBtn = document.getElementById("fit");
      if (fitBtn) fitBtn.addEventListener("click", () => cy.fit(cy.elements(":visible"), 20));

      cy.on("tap", "node", (ev) => {
        const n = byId.get(ev.target.id());
        if (n) showPanel(n);
      });

      window.addEventListener("resize", () => cy.resize());
      const ready = () => {
        cy.resize();
        const visible = cy.nodes(":visible");
        const onp = cy.elements(".onpath");
        cy.fit(onp.length ? onp : visible, 30);
        // Since navigation start: HTML, scripts, the JSON and the drawing.
        const ms = Math.round(performance.now());
        box.dataset.nodes = String(data.nodes.filter((n) => !n.ours).length);
        box.dataset.rendered = String(cy.nodes(".them").length);
        box.dataset.readyMs = String(ms);
        box.dataset.ready = "1";
        if (status) status.textContent = data.nodes.filter((n) => !n.ours).length + " stakeholders · drawn in " + ms + " ms";
      };
      if (!big) {
        // The org chart alone decides the ranks; influence lines and our ties
        // are drawn over it.
        const run = cy.elements("node.them, edge.reports").layout({ name: "dagre", rankDir: "TB", nodeSep: 14, rankSep: 60, fit: false, animate: false });
        run.one("layoutstop", () => { placeOurs(); ready(); });
        run.run();
      } else {
        placeOurs();
        ready();
      }
      window.renmaiMap = cy;
    })
    .catch((err) => {
      if (status) status.textContent = "The map could not be drawn (" + err.message + "); the table below has every stakeholder.";
      box.dataset.error = err.message;
    });

  function hasDagre() {
    try { return !!window.cytoscape("layout", "dagre"); } catch (_) { return false; }
  }
})();
