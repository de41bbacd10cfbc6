//! Loopback listeners and a server task that handles every accepted connection.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Binds `addr` with SO_REUSEADDR, so a stopped server can come back on the same port at once.
pub fn try_bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(64)
}

/// Binds 127.0.0.1:`port` (0 = any) with SO_REUSEADDR; panics on failure.
pub fn bind(port: u16) -> TcpListener {
    try_bind(SocketAddr::from(([127, 0, 0, 1], port))).expect("bind 127.0.0.1")
}

/// A server task; aborting it (or dropping this) closes the listener and every connection.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// `http://127.0.0.1:port`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://127.0.0.1:port`.
    pub fn https_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Stops accepting and closes every open connection.
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs `handle` for every accepted connection until the server is stopped.
pub fn serve<F, Fut>(listener: TcpListener, handle: F) -> Server
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(accept_loop(listener, handle));
    Server { addr, task }
}

/// Accepts until aborted, each connection in a task of its own (aborted with the loop).
pub(crate) async fn accept_loop<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    conns.spawn(handle(stream));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}
