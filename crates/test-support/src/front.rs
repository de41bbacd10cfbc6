//! TLS fronts for a plain-HTTP backend (wiremock): a fixed one, and one whose behaviour can be
//! switched while a client keeps using the same address.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use wiremock::MockServer;

use crate::net::{Server, accept_loop, bind, serve, try_bind};
use crate::pki::Pki;

/// A TLS terminator on 127.0.0.1 that forwards the decrypted bytes to `backend` (a wiremock
/// server). Failed handshakes just close the connection.
pub fn tls_front(pki: &Pki, backend: &MockServer) -> Server {
    let acceptor = pki.acceptor();
    let backend = *backend.address();
    serve(bind(0), move |stream| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(stream).await else {
                return;
            };
            let Ok(mut upstream) = TcpStream::connect(backend).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
        }
    })
}

/// How a [`Front`] treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontMode {
    /// TLS with the trusted certificate, bytes forwarded to the backend.
    Proxy,
    /// Nothing listens on the port: connections are refused.
    Refuse,
    /// Accepts TCP and never answers the TLS handshake.
    StallHandshake,
    /// Completes TLS, reads the request, never answers.
    StallResponse,
    /// TLS with a certificate from a CA the client does not trust.
    Untrusted,
}

/// A TLS front on a fixed 127.0.0.1 port whose behaviour can be switched. Switching closes
/// every open connection, so pooled keep-alive connections never outlive a mode.
pub struct Front {
    /// Where it listens.
    pub addr: SocketAddr,
    pki: Arc<Pki>,
    untrusted: Arc<Pki>,
    backend: SocketAddr,
    task: Mutex<Option<JoinHandle<()>>>,
    mode: Mutex<FrontMode>,
}

impl Front {
    /// Starts in [`FrontMode::Proxy`] on a free port, presenting `pki`'s leaf and forwarding to
    /// `backend`.
    pub fn start(pki: Arc<Pki>, backend: SocketAddr) -> Self {
        let listener = bind(0);
        let addr = listener.local_addr().expect("addr");
        let front = Self {
            addr,
            pki,
            untrusted: Arc::new(Pki::named("untrusted test CA", &["127.0.0.1", "localhost"])),
            backend,
            task: Mutex::new(None),
            mode: Mutex::new(FrontMode::Proxy),
        };
        front.run(listener, FrontMode::Proxy);
        front
    }

    /// The current mode.
    pub fn mode(&self) -> FrontMode {
        *self.mode.lock().expect("lock")
    }

    /// Switches to `mode`, closing every connection (a no-op when already in it).
    pub async fn set(&self, mode: FrontMode) {
        if self.mode() == mode {
            return;
        }
        let old = self.task.lock().expect("lock").take();
        if let Some(task) = old {
            task.abort();
            let _ = task.await;
        }
        *self.mode.lock().expect("lock") = mode;
        if mode != FrontMode::Refuse {
            // The port was ours a moment ago; SO_REUSEADDR lets it be bound again at once.
            let mut tries = 0;
            let listener = loop {
                match try_bind(self.addr) {
                    Ok(l) => break l,
                    Err(_) if tries < 50 => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(e) => panic!("cannot bind the front again on {}: {e}", self.addr),
                }
            };
            self.run(listener, mode);
        }
        // Give the client's pool a moment to see its connections closed.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    fn run(&self, listener: TcpListener, mode: FrontMode) {
        let acceptor = match mode {
            FrontMode::Untrusted => self.untrusted.acceptor(),
            _ => self.pki.acceptor(),
        };
        let backend = self.backend;
        let task = tokio::spawn(accept_loop(listener, move |stream| {
            handle(stream, mode, acceptor.clone(), backend)
        }));
        *self.task.lock().expect("lock") = Some(task);
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().expect("lock").take() {
            task.abort();
        }
    }
}

async fn drain<S: tokio::io::AsyncRead + Unpin>(mut s: S) {
    let mut buf = [0u8; 4096];
    while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
}

async fn handle(
    stream: TcpStream,
    mode: FrontMode,
    acceptor: tokio_rustls::TlsAcceptor,
    backend: SocketAddr,
) {
    match mode {
        FrontMode::Refuse => {}
        FrontMode::StallHandshake => drain(stream).await,
        FrontMode::StallResponse => {
            if let Ok(tls) = acceptor.accept(stream).await {
                drain(tls).await;
            }
        }
        FrontMode::Proxy | FrontMode::Untrusted => {
            let Ok(mut tls) = acceptor.accept(stream).await else {
                return;
            };
            let Ok(mut upstream) = TcpStream::connect(backend).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
        }
    }
}
