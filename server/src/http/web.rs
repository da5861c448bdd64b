//! The web pages, served by the binary itself: the rider's booking page at `/`, the console for
//! partners, chauffeurs and operators at `/console`, and their assets under `/assets/`. The files
//! of `web/` are embedded at compile time (plain ES modules, no build step), gzip-compressed once
//! on first use, sent with an ETag (304 on revalidation) and a strict Content-Security-Policy:
//! only this origin, plus the map tile host when one is configured (`--tile-url`).

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// What the pages need to know about the deployment.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// A Leaflet tile URL template, e.g. `https://{s}.tile.example.org/{z}/{x}/{y}.png`. None:
    /// the map has no background but still works for picking points.
    pub tile_url: Option<String>,
}

static CONFIG: OnceLock<WebConfig> = OnceLock::new();

/// Sets the pages' configuration; call once before serving (later calls are ignored). The tile
/// URL is checked first: its host goes into the Content-Security-Policy.
pub fn configure(config: WebConfig) -> Result<(), String> {
    if let Some(url) = &config.tile_url {
        tile_source(url)?;
    }
    // A second call (tests starting several servers in one process) keeps the first.
    let _ = CONFIG.set(config);
    Ok(())
}

fn config() -> &'static WebConfig {
    CONFIG.get_or_init(WebConfig::default)
}

/// The CSP source of a tile URL template: `scheme://host[:port]`, with a `{s}` subdomain
/// placeholder widened to `*`. Anything else is refused, so the policy never allows more than
/// the one tile host.
pub fn tile_source(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("tile URL {url:?} has no scheme"))?;
    if scheme != "https" && scheme != "http" {
        return Err(format!("tile URL {url:?} must be http or https"));
    }
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.replace("{s}", "*");
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*');
    if host.is_empty() || !host.chars().all(allowed) || !rest.contains("{z}") {
        return Err(format!(
            "tile URL {url:?} must look like https://{{s}}.tiles.example/{{z}}/{{x}}/{{y}}.png"
        ));
    }
    Ok(format!("{scheme}://{host}"))
}

struct Asset {
    /// Under `/assets/` (the two pages under their own paths).
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// A versioned path whose content never changes.
    immutable: bool,
}

macro_rules! asset {
    ($path:literal, $type:literal) => {
        asset!($path, $type, false)
    };
    ($path:literal, $type:literal, $immutable:literal) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/", $path)),
            immutable: $immutable,
        }
    };
}

/// Every file the pages load. A file missing here is a 404 in the browser tests.
const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("console.html", "text/html; charset=utf-8"),
    asset!("css/app.css", "text/css; charset=utf-8"),
    asset!("js/api.js", "text/javascript; charset=utf-8"),
    asset!("js/i18n.js", "text/javascript; charset=utf-8"),
    asset!("js/ui.js", "text/javascript; charset=utf-8"),
    asset!("js/map.js", "text/javascript; charset=utf-8"),
    asset!("js/rider.js", "text/javascript; charset=utf-8"),
    asset!("js/console.js", "text/javascript; charset=utf-8"),
    asset!(
        "vendor/leaflet-1.9.4/leaflet.js",
        "text/javascript; charset=utf-8",
        true
    ),
    asset!(
        "vendor/leaflet-1.9.4/leaflet.css",
        "text/css; charset=utf-8",
        true
    ),
    asset!(
        "vendor/leaflet-1.9.4/LICENSE",
        "text/plain; charset=utf-8",
        true
    ),
];

/// An asset as sent: the body (the pages with the configuration filled in), its gzip form and
/// its ETag.
struct Prepared {
    body: Vec<u8>,
    gzip: Vec<u8>,
    etag: String,
}

fn prepared() -> &'static [Prepared] {
    static PREPARED: OnceLock<Vec<Prepared>> = OnceLock::new();
    PREPARED.get_or_init(|| ASSETS.iter().map(prepare).collect())
}

/// HTML attribute text: the tile URL is the operator's, but escape it all the same.
fn attribute_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn prepare(asset: &Asset) -> Prepared {
    let body = if asset.path.ends_with(".html") {
        let tiles = config().tile_url.as_deref().unwrap_or_default();
        String::from_utf8_lossy(asset.body)
            .replace(
                "data-tile-url=\"\"",
                &format!("data-tile-url=\"{}\"", attribute_escaped(tiles)),
            )
            .into_bytes()
    } else {
        asset.body.to_vec()
    };
    let gzip = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail; if it somehow did, send the body uncompressed.
        match encoder.write_all(&body).and_then(|()| encoder.finish()) {
            Ok(gzip) if gzip.len() < body.len() => gzip,
            _ => Vec::new(),
        }
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..20]);
    Prepared { body, gzip, etag }
}

fn content_security_policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        let tiles = config()
            .tile_url
            .as_deref()
            .and_then(|url| tile_source(url).ok())
            .map(|source| format!(" {source}"))
            .unwrap_or_default();
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; \
             connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        )
    })
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.path == path) else {
        return ApiError::not_found("page or asset").into_response();
    };
    let (asset, ready) = (&ASSETS[index], &prepared()[index]);
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        // Unversioned paths: always revalidate (a 304 when unchanged).
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == ready.etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else if !ready.gzip.is_empty() && accepts_gzip(headers) {
        let mut r = ready.gzip.clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        ready.body.clone().into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(etag) = HeaderValue::from_str(&ready.etag) {
        h.insert(header::ETAG, etag);
    }
    if let Ok(policy) = HeaderValue::from_str(content_security_policy()) {
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("geolocation=(self), camera=(), microphone=()"),
    );
    response
}

async fn rider_page(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn console_page(headers: HeaderMap) -> Response {
    serve("console.html", &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // The pages are served at their own paths only.
    if path.ends_with(".html") {
        return ApiError::not_found("asset").into_response();
    }
    serve(&path, &headers)
}

/// `/`, `/console` and `/assets/…`; not part of the API document.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(rider_page))
        .route("/console", get(console_page))
        .route("/assets/{*path}", get(asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tile_host_and_nothing_else_enters_the_policy() {
        assert_eq!(
            tile_source("https://{s}.tile.example.org/{z}/{x}/{y}.png").unwrap(),
            "https://*.tile.example.org"
        );
        assert_eq!(
            tile_source("http://127.0.0.1:9000/tiles/{z}/{x}/{y}.png").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert!(tile_source("javascript:alert(1)").is_err());
        assert!(tile_source("https://a.example; script-src */{z}").is_err());
        assert!(tile_source("https://tiles.example/no-placeholders.png").is_err());
    }

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        let mut headers = HeaderMap::new();
        assert!(!accepts_gzip(&headers));
        headers.insert(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br".parse().unwrap(),
        );
        assert!(accepts_gzip(&headers));
        headers.insert(header::ACCEPT_ENCODING, "gzip;q=0, br".parse().unwrap());
        assert!(!accepts_gzip(&headers));
    }

    #[test]
    fn every_embedded_text_asset_compresses_and_has_an_etag() {
        for (asset, ready) in ASSETS.iter().zip(prepared()) {
            assert!(!ready.body.is_empty(), "{}", asset.path);
            assert!(ready.etag.starts_with('"'), "{}", asset.path);
            if asset.body.len() > 1000 {
                assert!(!ready.gzip.is_empty(), "{} not compressed", asset.path);
            }
        }
    }
}
