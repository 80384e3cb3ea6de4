//! Static files from `static/`, compiled into the binary so a single file
//! deploys; served with a content type and a cache lifetime.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// (path under /static/, content type, bytes)
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/style.css"),
    ),
    (
        "print.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/print.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
    (
        "map.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/map.js"),
    ),
    (
        "bigmap.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/bigmap.js"),
    ),
    // Vendored from the npm registry, MIT (see static/vendor/README.md).
    (
        "vendor/cytoscape.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/cytoscape.min.js"),
    ),
    (
        "vendor/cytoscape-dagre.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/cytoscape-dagre.min.js"),
    ),
    (
        "vendor/LICENSE.cytoscape",
        "text/plain; charset=utf-8",
        include_bytes!("../../static/vendor/LICENSE.cytoscape"),
    ),
    (
        "vendor/LICENSE.cytoscape-dagre",
        "text/plain; charset=utf-8",
        include_bytes!("../../static/vendor/LICENSE.cytoscape-dagre"),
    ),
    (
        "vendor/LICENSE.dagre",
        "text/plain; charset=utf-8",
        include_bytes!("../../static/vendor/LICENSE.dagre"),
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/static/{*path}", get(asset))
}

async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, ctype, bytes)) => (
            [
                (header::CONTENT_TYPE, *ctype),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
