//! A simulator and a change engine talking to it, journaling into a directory of its own: the
//! set-up of the engine's tests against the simulator (`apply_group.rs`, `precondition.rs`).

use std::time::Duration;

use opnsense_api::Client;
use opnsense_api::grid::ErasedGrid;
use opnsense_change::engine::{Engine, Settings, Write};
use opnsense_change::journal::Journal;
use opnsense_sim::{SimConfig, Simulator};
use serde_json::Value;

/// The simulator, the engine, and the journal's directory (removed when dropped).
pub struct Rig {
    pub sim: Simulator,
    pub engine: Engine,
    _state: tempfile::TempDir,
}

/// A simulator started with `config` and an engine with default settings.
pub async fn start(config: SimConfig) -> Rig {
    let sim = Simulator::start(config).await.expect("simulator starts");
    let client = Client::builder(sim.base_url())
        .credentials(sim.api_key(), sim.api_secret())
        .ca_file(sim.ca_file())
        // A locked-out simulator never answers a new connection's handshake: the probe gives
        // up after this.
        .connect_timeout(Duration::from_secs(2))
        .read_timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let state = tempfile::tempdir().expect("state dir");
    let journal = Journal::open_in_dir(state.path(), client.api_base())
        .await
        .expect("journal");
    Rig {
        sim,
        engine: Engine::new(client, journal, Settings::default()),
        _state: state,
    }
}

/// Stages a record (wire form) through the engine; its uuid.
pub async fn add(engine: &Engine, grid: &'static dyn ErasedGrid, body: Value) -> String {
    engine
        .write(grid, Write::Add(body), false)
        .await
        .expect("staged")
        .uuid
        .expect("uuid")
}
