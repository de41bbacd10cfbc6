//! Real servers on 127.0.0.1 for the transport, TLS and audit tests: raw TCP servers that
//! misbehave on purpose, a TLS terminator in front of a wiremock server, and a tracing
//! capture.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Loopback servers and the throwaway PKI, shared with the other crates' tests.
#[allow(unused_imports)] // each test binary uses a part
pub use test_support::{Pki, Server, bind, serve, tls_front};

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

/// Accepts connections and holds them open without ever sending a byte.
pub fn silent_server() -> Server {
    serve(bind(0), |mut stream| async move {
        let mut buf = [0u8; 4096];
        // Read (and ignore) whatever comes, until the peer goes away.
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    })
}

/// One HTTP/1.1 request as read off the wire.
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub head: String,
    pub body: Vec<u8>,
}

/// Reads one request (head + Content-Length body); `None` when the peer closed first.
pub async fn read_request(stream: &mut TcpStream) -> Option<RawRequest> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(RawRequest { head, body })
}

/// A complete HTTP/1.1 response with a correct Content-Length.
pub fn http_response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// For every request, writes the bytes `respond` returns, then closes the connection.
pub fn raw_server<F>(respond: F) -> Server
where
    F: Fn(&RawRequest) -> Vec<u8> + Send + Sync + 'static,
{
    raw_server_on(bind(0), respond)
}

/// [`raw_server`] on a given listener.
pub fn raw_server_on<F>(listener: TcpListener, respond: F) -> Server
where
    F: Fn(&RawRequest) -> Vec<u8> + Send + Sync + 'static,
{
    let respond = Arc::new(respond);
    serve(listener, move |mut stream| {
        let respond = Arc::clone(&respond);
        async move {
            if let Some(req) = read_request(&mut stream).await {
                let _ = stream.write_all(&respond(&req)).await;
                let _ = stream.flush().await;
            }
            // Dropping the stream closes the connection.
        }
    })
}

/// Answers every request on a kept-alive connection with `body` (HTTP 200 JSON).
pub fn keep_alive_json_server(listener: TcpListener, body: &'static str) -> Server {
    serve(listener, move |mut stream| async move {
        while let Some(_req) = read_request(&mut stream).await {
            let resp = http_response("200 OK", "application/json", body.as_bytes());
            if stream.write_all(&resp).await.is_err() {
                break;
            }
        }
    })
}

/// `body` as an HTTP/1.1 200 JSON response with `Transfer-Encoding: chunked` (no
/// Content-Length), cut into chunks of `chunk` bytes.
pub fn chunked_response(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for part in body.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// For every request, writes `head` at once, then `drip` one byte every `every`, then closes.
/// Bounded: it never writes more than `drip.len()` bytes.
pub fn drip_server(head: Vec<u8>, drip: Vec<u8>, every: std::time::Duration) -> Server {
    let head = Arc::new(head);
    let drip = Arc::new(drip);
    serve(bind(0), move |mut stream| {
        let head = Arc::clone(&head);
        let drip = Arc::clone(&drip);
        async move {
            if read_request(&mut stream).await.is_none() {
                return;
            }
            if stream.write_all(&head).await.is_err() {
                return;
            }
            let _ = stream.flush().await;
            for byte in drip.iter() {
                tokio::time::sleep(every).await;
                if stream.write_all(&[*byte]).await.is_err() || stream.flush().await.is_err() {
                    return;
                }
            }
        }
    })
}

/// A `MakeWriter` that appends every formatted event to a shared buffer.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }

    /// Captured lines parsed as JSON (one event per line).
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// The audit events (target `opnsense_api::audit`), their fields flattened.
    pub fn audit_events(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.events()
            .into_iter()
            .filter(|e| e["target"] == opnsense_api::AUDIT_TARGET)
            .map(|e| e["fields"].as_object().cloned().expect("fields"))
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Routes every event (all levels, all targets, and `log` records) on this thread to a JSON
/// buffer until the guard is dropped.
pub fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    // `log` records (rustls, reqwest) are forwarded to the thread's subscriber too.
    let _ = tracing_log::LogTracer::init();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_target(true)
        .with_current_span(true)
        .with_span_list(true)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

/// Where the test CA file lives when a test wants a path that is not a certificate.
pub fn not_pem_file() -> (tempfile::NamedTempFile, PathBuf) {
    let mut f = tempfile::NamedTempFile::new().expect("tempfile");
    f.write_all(b"this is not a certificate\n").expect("write");
    f.flush().expect("flush");
    let path = f.path().to_owned();
    (f, path)
}
