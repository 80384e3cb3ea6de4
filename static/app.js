// renmai pages: small progressive enhancements; every page works without this file.
"use strict";

// Parts that need JavaScript (the map) are hidden until this runs.
document.documentElement.classList.add("js");

// Sortable tables: click a header to sort by that column (numbers numerically).
document.querySelectorAll("table.sortable").forEach((table) => {
  table.querySelectorAll("thead th").forEach((th, col) => {
    th.tabIndex = 0;
    th.setAttribute("aria-sort", "none");
    const sort = () => {
      const asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach((h) => h.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      const key = (r) => {
        const cell = r.cells[col];
        const v = cell.dataset.sort ?? cell.textContent.trim();
        const n = parseFloat(v);
        return Number.isNaN(n) ? v.toLowerCase() : n;
      };
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach((r) => body.appendChild(r));
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
});
