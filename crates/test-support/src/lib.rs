//! Dev-only helpers shared by the workspace's tests (never a dependency of product code):
//!
//! - [`Pki`]: a throwaway CA (rcgen) and a leaf certificate it signed, for HTTPS on loopback;
//! - [`bind`], [`serve`] and [`Server`]: a task accepting connections on 127.0.0.1;
//! - [`tls_front`]: a TLS terminator in front of a wiremock server;
//! - [`Front`]: a TLS front on a fixed port whose behaviour can be switched at run time
//!   (proxy, refuse, stall the handshake, stall the response, untrusted certificate), for
//!   fault tests.
//!
//! Everything binds 127.0.0.1 only. The helpers panic on setup failures: they are for tests.

mod front;
mod net;
mod pki;

pub use front::{Front, FrontMode, tls_front};
pub use net::{Server, bind, serve, try_bind};
pub use pki::Pki;
