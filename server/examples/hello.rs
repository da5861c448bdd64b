//! The load benchmark's baseline: a bare hyper HTTP/1 hello-world on the same tokio runtime
//! the server uses. `cargo run --release -p chauffeur-server --example hello -- 127.0.0.1:9000`
//! An optional second argument makes the body that many bytes (to see what answer size alone
//! costs).
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark tool

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let listener = TcpListener::bind(&addr).await.expect("bind");
    println!("listening on http://{}", listener.local_addr().unwrap());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let service = service_fn(|_req: Request<hyper::body::Incoming>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                    b"Hello, World!",
                ))))
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
