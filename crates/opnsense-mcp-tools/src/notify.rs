//! Server-to-client notifications: the sessions this server talks to (each with its
//! `logging/setLevel` level and its `resources/subscribe` subscriptions), log messages
//! (`notifications/message`), resource updates (`notifications/resources/updated`) when the
//! change engine writes, applies or reverts, progress (`notifications/progress`) for a request
//! that carries a progress token, and cancellation (`notifications/cancelled`) of read work.
//!
//! One [`Notifier`] per target serves every session of the server (HTTP sessions share the
//! catalogue; the fleet registers each session with every target's notifier and routes each
//! subscription to its target's); a session is known by its peer (the identity of its `initialize` parameters) and forgotten once
//! its transport closes.
// MCP logging (`logging/setLevel`, `notifications/message`) is deprecated by SEP-2577 in rmcp, but
// it is part of protocol 2025-11-25, which the clients in use speak.
#![allow(deprecated)]

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use opnsense_change::engine::{ApplyProgress, ApplyStep, ChangeEvent};
use opnsense_change::journal::ChangeStatus;
use rmcp::model::{
    LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
    ResourceUpdatedNotificationParam, SubscriptionFilter,
};
use rmcp::service::{Peer, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer};
use serde_json::json;

/// The logger name of every message this server sends.
pub const LOGGER: &str = "opnsense-mcp";

/// The level a session gets messages from until it sets one (`logging/setLevel`).
pub const DEFAULT_LEVEL: LoggingLevel = LoggingLevel::Warning;

/// The order of MCP's levels (RFC 5424's severities, least severe first).
pub fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// One connected session.
struct Session {
    peer: Peer<RoleServer>,
    level: Option<LoggingLevel>,
    subscriptions: BTreeSet<String>,
}

impl Session {
    fn wants(&self, level: LoggingLevel) -> bool {
        rank(level) >= rank(self.level.unwrap_or(DEFAULT_LEVEL))
    }
}

/// One `subscriptions/listen` stream (protocol 2026-07-28): the URIs it accepted, and where its
/// updates go.
struct Listener {
    uris: BTreeSet<String>,
    tx: tokio::sync::mpsc::UnboundedSender<String>,
}

/// The sessions of a server and what each asked to be told about one target (firewall): its
/// resources' updates and its change engine's warnings. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    target: Arc<str>,
    sessions: Arc<Mutex<HashMap<usize, Session>>>,
    listeners: Arc<Mutex<Vec<Listener>>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("target", &self.target)
            .field("sessions", &self.lock().len())
            .finish_non_exhaustive()
    }
}

/// A session's identity: its `initialize` parameters, which the peer keeps for the session's
/// life (`None` before `initialize`, or on a 2026-07-28 request without one).
fn key(peer: &Peer<RoleServer>) -> Option<usize> {
    peer.peer_info().map(|info| Arc::as_ptr(&info).addr())
}

impl Notifier {
    /// The notifier of the target `name` (its messages name it).
    pub fn for_target(name: &str) -> Self {
        Self {
            target: Arc::from(name),
            sessions: Arc::default(),
            listeners: Arc::default(),
        }
    }

    /// The target it tells about.
    pub fn target(&self) -> &str {
        &self.target
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers a session (idempotent) and forgets the closed ones.
    pub fn register(&self, peer: &Peer<RoleServer>) {
        let Some(k) = key(peer) else {
            return;
        };
        let mut sessions = self.lock();
        sessions.retain(|_, s| !s.peer.is_transport_closed());
        sessions.entry(k).or_insert_with(|| Session {
            peer: peer.clone(),
            level: None,
            subscriptions: BTreeSet::new(),
        });
    }

    fn with_session<T>(&self, peer: &Peer<RoleServer>, f: impl FnOnce(&mut Session) -> T) -> T {
        self.register(peer);
        let mut sessions = self.lock();
        match key(peer).and_then(|k| sessions.get_mut(&k)) {
            Some(s) => f(s),
            // No identity: a throwaway session, so the call still answers.
            None => f(&mut Session {
                peer: peer.clone(),
                level: None,
                subscriptions: BTreeSet::new(),
            }),
        }
    }

    /// `logging/setLevel`: the session gets messages of `level` and above from now on.
    pub fn set_level(&self, peer: &Peer<RoleServer>, level: LoggingLevel) {
        self.with_session(peer, |s| s.level = Some(level));
    }

    /// `resources/subscribe`.
    pub fn subscribe(&self, peer: &Peer<RoleServer>, uri: &str) {
        self.with_session(peer, |s| s.subscriptions.insert(uri.to_owned()));
    }

    /// `resources/unsubscribe`.
    pub fn unsubscribe(&self, peer: &Peer<RoleServer>, uri: &str) {
        self.with_session(peer, |s| s.subscriptions.remove(uri));
    }

    /// Sends `message` at `level` to `peer` if its level lets it through.
    pub async fn log_to(&self, peer: &Peer<RoleServer>, level: LoggingLevel, message: &str) {
        if self.with_session(peer, |s| s.wants(level)) {
            send_log(peer, level, message).await;
        }
    }

    /// Sends `message` at `level` to every session whose level lets it through.
    pub async fn log(&self, level: LoggingLevel, message: &str) {
        let peers: Vec<Peer<RoleServer>> = self
            .lock()
            .values()
            .filter(|s| s.wants(level) && !s.peer.is_transport_closed())
            .map(|s| s.peer.clone())
            .collect();
        for peer in peers {
            send_log(&peer, level, message).await;
        }
    }

    /// Tells every session subscribed to a URI for which `affected` holds that it changed.
    pub async fn resources_updated(&self, affected: impl Fn(&str) -> bool) {
        let targets: Vec<(Peer<RoleServer>, String)> = self
            .lock()
            .values()
            .filter(|s| !s.peer.is_transport_closed())
            .flat_map(|s| {
                s.subscriptions
                    .iter()
                    .filter(|uri| affected(uri))
                    .map(|uri| (s.peer.clone(), uri.clone()))
            })
            .collect();
        for (peer, uri) in targets {
            if let Err(e) = peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
            {
                tracing::debug!("cannot send a resource update: {e}");
            }
        }
        let mut listeners = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        listeners.retain(|l| !l.tx.is_closed());
        for l in listeners.iter() {
            for uri in l.uris.iter().filter(|u| affected(u)) {
                let _ = l.tx.send(uri.clone());
            }
        }
    }

    /// `subscriptions/listen` (protocol 2026-07-28): the resource subscriptions of `requested`
    /// that name this server's resources (`known`), and nothing else.
    pub fn accept(
        requested: &SubscriptionFilter,
        known: impl Fn(&str) -> bool,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::new();
        accepted.resource_subscriptions = requested
            .resource_subscriptions
            .as_ref()
            .map(|uris| uris.iter().filter(|u| known(u)).cloned().collect());
        Some(accepted)
    }

    /// Serves one `subscriptions/listen` stream until the client cancels it or goes away: each
    /// update of an accepted resource is sent on it.
    pub async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        Self::listen_routed(context, |_| Some(self.clone())).await
    }

    /// [`Self::listen`] over several targets: each accepted URI is followed on the notifier
    /// `route` gives for it (its target's), all on the one stream.
    pub async fn listen_routed(
        context: SubscriptionContext,
        route: impl Fn(&str) -> Option<Notifier>,
    ) -> Result<(), ErrorData> {
        let mut by_notifier: Vec<(Notifier, BTreeSet<String>)> = Vec::new();
        for uri in context.accepted().resource_subscriptions.iter().flatten() {
            let Some(notifier) = route(uri) else {
                continue;
            };
            match by_notifier
                .iter_mut()
                .find(|(n, _)| Arc::ptr_eq(&n.listeners, &notifier.listeners))
            {
                Some((_, uris)) => {
                    uris.insert(uri.clone());
                }
                None => by_notifier.push((notifier, BTreeSet::from([uri.clone()]))),
            }
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for (notifier, uris) in by_notifier {
            notifier
                .listeners
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Listener {
                    uris,
                    tx: tx.clone(),
                });
        }
        // Kept: the stream stays open until cancelled, even with nothing accepted.
        let _open = tx;
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                uri = rx.recv() => {
                    let Some(uri) = uri else { return Ok(()) };
                    if let Err(e) = context.sink().notify_resource_updated(uri).await {
                        tracing::debug!("subscription stream closed: {e}");
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Follows the change engine's events until it is gone: subscribers of the resources a
    /// grid shows are told when it is written, or when an apply or a revert changes its records
    /// (every grid of the change: an apply group's, see `updates`; `affected(grid, uri)`); a
    /// change about to be reverted is a warning, a failed revert an error, to every session.
    pub fn follow(
        &self,
        mut events: tokio::sync::broadcast::Receiver<ChangeEvent>,
        affected: fn(&str, &str) -> bool,
    ) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!("no runtime: change events are not forwarded to MCP clients");
            return;
        };
        let notifier = self.clone();
        runtime.spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match events.recv().await {
                    Ok(event) => notifier.on_change(&event, affected).await,
                    // Events were lost: every subscription may be stale.
                    Err(RecvError::Lagged(_)) => notifier.resources_updated(|_| true).await,
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }

    async fn on_change(&self, event: &ChangeEvent, affected: fn(&str, &str) -> bool) {
        match event {
            ChangeEvent::Reverting {
                grid,
                change_id,
                reason,
            } => {
                self.log(
                    LoggingLevel::Warning,
                    &format!(
                        "target `{}`: change {change_id} ({grid}) is about to be reverted: {reason}",
                        self.target
                    ),
                )
                .await;
            }
            ChangeEvent::Reverted {
                grid,
                change_id,
                status: ChangeStatus::RevertFailed,
                error,
                ..
            } => {
                self.log(
                    LoggingLevel::Error,
                    &format!(
                        "target `{}`: the revert of change {change_id} ({grid}) FAILED: {}",
                        self.target,
                        error.as_deref().unwrap_or("see change_get")
                    ),
                )
                .await;
            }
            ChangeEvent::Reverted {
                grid, change_id, ..
            } => {
                self.log(
                    LoggingLevel::Notice,
                    &format!(
                        "target `{}`: change {change_id} ({grid}) was reverted",
                        self.target
                    ),
                )
                .await;
            }
            ChangeEvent::Applied {
                grid,
                change_id,
                status,
                ..
            } => {
                self.log(
                    LoggingLevel::Info,
                    &format!(
                        "target `{}`: change {change_id} ({grid}) was applied and is {}",
                        self.target,
                        status.as_str()
                    ),
                )
                .await;
            }
            ChangeEvent::Written { .. } => {}
        }
        if !event.changed_grids().is_empty() {
            self.resources_updated(|uri| updates(event, uri, affected))
                .await;
        }
    }
}

/// Whether `event` changes what `uri` shows: a write in its grid, an apply or a revert in any
/// grid whose records it made live or put back ([`ChangeEvent::changed_grids`]: an apply group's
/// grids, so an outbound NAT apply that makes staged filter rules live updates `rules` too), by
/// `affected(grid, uri)`. A revert about to start changes nothing yet.
fn updates(event: &ChangeEvent, uri: &str, affected: fn(&str, &str) -> bool) -> bool {
    event
        .changed_grids()
        .into_iter()
        .any(|grid| affected(grid, uri))
}

async fn send_log(peer: &Peer<RoleServer>, level: LoggingLevel, message: &str) {
    let mut param = LoggingMessageNotificationParam::new(level, json!(message));
    param.logger = Some(LOGGER.to_owned());
    if let Err(e) = peer.notify_logging_message(param).await {
        tracing::debug!("cannot send a log message: {e}");
    }
}

impl crate::OpnsenseTools {
    /// A session started (`notifications/initialized`): it is remembered, and warned when this
    /// server does not verify the firewall's certificate.
    pub async fn session_started(&self, peer: &Peer<RoleServer>) {
        self.notifier().register(peer);
        if !self.client().verifies_tls() {
            self.notifier()
                .log_to(
                    peer,
                    LoggingLevel::Warning,
                    &format!(
                        "TLS certificate verification of the firewall `{}` is OFF (verify_tls = false): anyone on the path can read and change what this server sends; use a CA file (OPNSENSE_CA_FILE) or pin its certificate (OPNSENSE_TLS_FINGERPRINT) instead",
                        self.target()
                    ),
                )
                .await;
        }
    }
}

/// Progress of one request that carried a progress token.
#[derive(Clone)]
pub struct Progress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

tokio::task_local! {
    /// The progress of the request being served (set around each tool call).
    static PROGRESS: Option<Progress>;
}

impl Progress {
    /// The progress of a request: `None` when it carries no progress token.
    pub fn of(context: &RequestContext<RoleServer>) -> Option<Self> {
        context.meta.get_progress_token().map(|token| Self {
            peer: context.peer.clone(),
            token,
        })
    }

    /// The progress of the tool call being served.
    pub fn current() -> Option<Self> {
        PROGRESS.try_with(Clone::clone).ok().flatten()
    }

    /// Runs `f` with `progress` as [`Self::current`].
    pub async fn scope<F: Future>(progress: Option<Self>, f: F) -> F::Output {
        PROGRESS.scope(progress, f).await
    }

    /// Sends one progress notification.
    pub async fn report(&self, progress: u64, total: Option<u64>, message: impl Into<String>) {
        #[allow(clippy::cast_precision_loss)] // counts of steps and rows, far below 2^52
        let mut param = ProgressNotificationParam::new(self.token.clone(), progress as f64)
            .with_message(message.into());
        #[allow(clippy::cast_precision_loss)]
        if let Some(t) = total {
            param = param.with_total(t as f64);
        }
        if let Err(e) = self.peer.notify_progress(param).await {
            tracing::debug!("cannot send progress: {e}");
        }
    }

    /// An engine progress hook that reports each apply step in order, and a handle that
    /// resolves once every step reported so far is sent (await it before answering: no
    /// progress may follow the answer).
    pub fn apply_hook(&self) -> (ApplyProgress, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ApplyStep>();
        let me = self.clone();
        let sender = tokio::spawn(async move {
            while let Some(step) = rx.recv().await {
                me.report(
                    u64::from(step.number()),
                    Some(u64::from(ApplyStep::TOTAL)),
                    step.describe(),
                )
                .await;
            }
        });
        let hook = ApplyProgress::new(move |step| {
            let _ = tx.send(step);
        });
        (hook, sender)
    }
}

/// Runs `work` unless `cancelled` resolves first (the request's cancellation token, which
/// `notifications/cancelled` for it trips): then `work` is dropped at once, and with it every
/// OPNsense request it has in flight.
pub async fn cancellable<T>(
    cancelled: impl Future<Output = ()>,
    work: impl Future<Output = Result<T, ErrorData>>,
) -> Result<T, ErrorData> {
    tokio::select! {
        biased;
        () = cancelled => Err(ErrorData::internal_error("the request was cancelled", None)),
        result = work => result,
    }
}

#[cfg(test)]
mod tests {
    use opnsense_change::engine::ChangeEvent;
    use opnsense_change::journal::ChangeStatus;

    use super::updates;
    use crate::resources::affected;

    const RULES: &str = "opnsense://default/rules";
    const NAT: &str = "opnsense://default/nat";
    const ALIASES: &str = "opnsense://default/aliases";
    const CONFIG: &str = "opnsense://default/config";
    const RULE: &str = "opnsense://default/rules/5c31f0a2-1b2c-4d3e-8f4a-5b6c7d8e9f00";

    fn grids(g: &[&str]) -> Vec<String> {
        g.iter().map(|s| (*s).to_owned()).collect()
    }

    fn applied(grid: &str, changed: &[&str]) -> ChangeEvent {
        ChangeEvent::Applied {
            grid: grid.to_owned(),
            change_id: "chg-1".to_owned(),
            status: ChangeStatus::Pending,
            grids: grids(changed),
        }
    }

    fn reverted(grid: &str, changed: &[&str]) -> ChangeEvent {
        ChangeEvent::Reverted {
            grid: grid.to_owned(),
            grids: grids(changed),
            change_id: "chg-1".to_owned(),
            status: ChangeStatus::Reverted,
            error: None,
        }
    }

    #[test]
    fn an_outbound_nat_apply_that_makes_filter_rules_live_updates_the_rules() {
        let e = applied(
            "firewall.source_nat",
            &["firewall.source_nat", "firewall.filter"],
        );
        assert!(updates(&e, RULES, affected));
        assert!(updates(&e, RULE, affected), "the rule templates too");
        assert!(updates(&e, CONFIG, affected));
        assert!(!updates(&e, NAT, affected), "no port forward was staged");
        assert!(!updates(&e, ALIASES, affected));
        // Without staged filter rules, the rules are left alone.
        let alone = applied("firewall.source_nat", &["firewall.source_nat"]);
        assert!(!updates(&alone, RULES, affected));
        assert!(updates(&alone, CONFIG, affected));
    }

    #[test]
    fn a_filter_apply_that_makes_port_forwards_live_updates_nat() {
        let e = applied("firewall.filter", &["firewall.filter", "firewall.d_nat"]);
        assert!(updates(&e, NAT, affected));
        assert!(updates(&e, RULES, affected));
        let rules_only = applied("firewall.filter", &["firewall.filter"]);
        assert!(!updates(&rules_only, NAT, affected));
    }

    #[test]
    fn a_revert_updates_every_grid_it_put_back_and_a_revert_about_to_start_nothing() {
        let e = reverted(
            "firewall.source_nat",
            &["firewall.source_nat", "firewall.filter", "firewall.d_nat"],
        );
        for uri in [RULES, NAT, CONFIG, RULE] {
            assert!(updates(&e, uri, affected), "{uri}");
        }
        assert!(!updates(&e, ALIASES, affected));
        let starting = ChangeEvent::Reverting {
            grid: "firewall.filter".to_owned(),
            change_id: "chg-1".to_owned(),
            reason: "not confirmed in time".to_owned(),
        };
        for uri in [RULES, NAT, CONFIG] {
            assert!(!updates(&starting, uri, affected), "{uri}");
        }
        let write = ChangeEvent::Written {
            grid: "firewall.alias".to_owned(),
        };
        assert!(updates(&write, ALIASES, affected));
        assert!(!updates(&write, RULES, affected));
    }
}
