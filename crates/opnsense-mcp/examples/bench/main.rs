//! `cargo xtask bench`: speed, memory and context-cost figures of the release binary, printed
//! as a table and written as JSON (`target/bench.json`); never asserted. Loopback only, bounded
//! in time and count.
//!
//! Everything runs against a static HTTPS upstream (`upstream.rs`, its own process) that answers
//! at once from recorded OPNsense JSON, so the figures are this server's; the floor (the same
//! upstream requests sent straight to it by a compiled client at the same concurrency) makes
//! each speed figure a ratio. The figures: cold start (spawn to `initialize` answered, and to the
//! first `tools/list`); idle RSS, after 200 calls and after the HTTP runs; stdio p50/p99 and
//! server CPU per call for `system_status` and `firewall_rule_list` (1,000 rules, compact and
//! raw); streamable HTTP calls/s and p99 at 1, 8, 32 and 256 sessions with the load generator's
//! own CPU; result and `tools/list` sizes in bytes and bytes/4 (tokens, roughly). Last, the
//! safe-change figures, which need the simulator's logic (`safe.rs`).

mod load;
mod proc;
mod safe;
mod stdio;
// The reference server's tools and the one way tools/list is measured, as the tools crate's
// size test measures it; the bench reads some of the figures only.
#[allow(dead_code)]
#[path = "../../../opnsense-mcp-tools/tests/support/tools_list.rs"]
mod tools_list;
mod upstream;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use proc::{cpu_ns, ms, quantile, rss_kib};
use serde_json::{Value, json};
use tools_list::Sizes;

const COLD_STARTS: usize = 20;
const HTTP_RUN: Duration = Duration::from_secs(3);
const HTTP_MAX_CALLS: usize = 30_000;
const SESSIONS: [usize; 4] = [1, 8, 32, 256];

/// The server binary: `BENCH_BIN`, else the release build next to this example.
fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("BENCH_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/bench -> target/<profile>/opnsense-mcp
    exe.parent()
        .and_then(Path::parent)
        .map(|p| p.join("opnsense-mcp"))
        .expect("binary path")
}

/// One line of the table (and of the JSON).
struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    floor: Option<f64>,
    target: &'static str,
}

/// The targets of a latency series: its median, and the server's CPU per call.
#[derive(Clone, Copy, Default)]
struct Targets {
    p50: &'static str,
    cpu: &'static str,
}

/// `n` calls of `call`, each timed.
fn timed(n: usize, mut call: impl FnMut()) -> Vec<Duration> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            call();
            t.elapsed()
        })
        .collect()
}

#[derive(Default)]
struct Report {
    figures: Vec<Figure>,
    notes: Vec<String>,
}

impl Report {
    fn add(
        &mut self,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
        target: &'static str,
    ) {
        self.push(name.into(), value, unit, None, target);
    }

    fn vs(
        &mut self,
        name: impl Into<String>,
        value: f64,
        floor: f64,
        unit: &'static str,
        target: &'static str,
    ) {
        self.push(name.into(), value, unit, Some(floor), target);
    }

    fn push(
        &mut self,
        name: String,
        value: f64,
        unit: &'static str,
        floor: Option<f64>,
        target: &'static str,
    ) {
        self.figures.push(Figure {
            name,
            value,
            unit,
            floor,
            target,
        });
    }

    /// The median and the 99th percentile of `lat`, each beside the floor's, and `cpu` (the
    /// server's CPU per call) when measured.
    fn latencies(
        &mut self,
        name: &str,
        lat: &[Duration],
        floor: &[Duration],
        cpu: Option<Duration>,
        targets: Targets,
    ) {
        for (q, label, target) in [(0.5, "p50", targets.p50), (0.99, "p99", "")] {
            self.vs(
                format!("{name} {label}"),
                ms(quantile(&mut lat.to_vec(), q)),
                ms(quantile(&mut floor.to_vec(), q)),
                "ms",
                target,
            );
        }
        if let Some(cpu) = cpu {
            self.add(
                format!("{name}: server CPU per call"),
                ms(cpu),
                "ms",
                targets.cpu,
            );
        }
    }

    /// The median and the maximum of `lat`, with no floor.
    fn spread(&mut self, name: &str, lat: &[Duration], median_target: &'static str) {
        for (q, label, target) in [(0.5, "median", median_target), (1.0, "max", "")] {
            self.add(
                format!("{name}, {label}"),
                ms(quantile(&mut lat.to_vec(), q)),
                "ms",
                target,
            );
        }
    }

    fn print(&self) {
        println!();
        println!("| figure | value | upstream alone | ratio | target |");
        println!("|---|---:|---:|---:|---|");
        for f in &self.figures {
            let (floor, ratio) = match f.floor {
                Some(fl) if fl > 0.0 => (
                    format!("{} {}", num(fl), f.unit),
                    format!("{:.2}", f.value / fl),
                ),
                _ => (String::new(), String::new()),
            };
            println!(
                "| {} | {} {} | {floor} | {ratio} | {} |",
                f.name,
                num(f.value),
                f.unit,
                f.target
            );
        }
        for n in &self.notes {
            println!("\n{n}");
        }
    }

    fn json(&self) -> Value {
        json!({
            "figures": self.figures.iter().map(|f| json!({
                "figure": f.name, "value": f.value, "unit": f.unit, "upstream_alone": f.floor,
                "ratio": f.floor.filter(|fl| *fl > 0.0).map(|fl| f.value / fl), "target": f.target,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

fn num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--upstream") {
        upstream::run(args.get(2).expect("CA file"));
        return;
    }
    let out = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1))
        .map_or_else(
            || {
                let exe = std::env::current_exe().expect("exe");
                // target/<profile>/examples/bench -> target/bench.json
                exe.ancestors().nth(3).expect("target").join("bench.json")
            },
            PathBuf::from,
        );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let report = runtime.block_on(bench());
    report.print();
    let mut doc = report.json();
    doc["elapsed_s"] = json!(started.elapsed().as_secs_f64());
    doc["machine"] = json!(machine());
    std::fs::write(&out, serde_json::to_string_pretty(&doc).expect("json")).expect("write JSON");
    println!(
        "\nwritten to {} ({:.0} s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("{cores} cores, {cpu}")
}

/// The static upstream, in a process of its own; ends when its stdin closes.
struct Upstream {
    child: std::process::Child,
    url: String,
    ca_pem: Vec<u8>,
}

fn start_upstream(ca_file: &Path) -> Upstream {
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .arg("--upstream")
        .arg(ca_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("upstream");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("upstream url");
    Upstream {
        child,
        url: line.trim().to_owned(),
        ca_pem: std::fs::read(ca_file).expect("CA"),
    }
}

async fn bench() -> Report {
    let mut report = Report::default();
    let bin = binary();
    let tmp = tempfile::tempdir().expect("tmp");
    let ca_file = tmp.path().join("upstream-ca.pem");
    let up = start_upstream(&ca_file);
    let env = stdio::Env {
        url: up.url.clone(),
        ca_file: ca_file.display().to_string(),
        state_dir: tmp.path().join("state"),
    };
    println!("upstream: {} (pid {})", up.url, up.child.id());
    let rules_page = upstream::page(&upstream::rules(), 1, upstream::RULES);
    report.add(
        "upstream answer, search_rule 1,000 rules",
        kb(rules_page.len()),
        "KB",
        "",
    );

    cold_start(&mut report, &bin, &env);
    stdio_figures(&mut report, &bin, &env, &up).await;
    http_figures(&mut report, &bin, &env, &up).await;
    let size = std::fs::metadata(&bin).map_or(0, |m| m.len());
    report.add(
        "binary size",
        kb(usize::try_from(size).unwrap_or(0)),
        "KB",
        "",
    );
    drop(up);

    for (name, v) in safe::safe_changes(&bin).await {
        report.add(format!("safe changes: {name}"), v, "ms", "");
    }
    report
}

/// Kilobytes of 1,024 bytes, as the size test counts them (`tests/size.rs` of the tools crate).
fn kb(bytes: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    b / 1024.0
}

/// Spawn to `initialize` answered and to the first `tools/list` answered, over stdio; and the
/// size of that `tools/list`.
fn cold_start(report: &mut Report, bin: &Path, env: &stdio::Env) {
    let mut init = Vec::new();
    let mut list = Vec::new();
    let mut tools_line = String::new();
    for _ in 0..COLD_STARTS {
        let t = Instant::now();
        let mut s = stdio::Server::spawn(env.command(bin, &[]));
        s.initialize();
        init.push(t.elapsed());
        s.notify("notifications/initialized");
        let line = s.request_raw("tools/list", &json!({}));
        list.push(t.elapsed());
        if tools_line.is_empty() {
            line.clone_into(&mut tools_line);
        }
        s.close();
    }
    report.spread(
        &format!("cold start ({COLD_STARTS} spawns): spawn to initialize answered"),
        &init,
        "<= 20 ms",
    );
    report.spread(
        &format!("cold start ({COLD_STARTS} spawns): spawn to first tools/list answered"),
        &list,
        "",
    );
    // Sizes: the JSON of `{"tools": [...]}` as the client receives it.
    let msg: Value = serde_json::from_str(&tools_line).expect("tools/list");
    let tools: Vec<&Value> = msg["result"]["tools"]
        .as_array()
        .map(|t| t.iter().collect())
        .unwrap_or_default();
    let names = tools_list::reference_tools();
    let reference: Vec<&Value> = tools
        .iter()
        .copied()
        .filter(|t| tools_list::is_reference(t, &names))
        .collect();
    let (every, reference) = (Sizes::of(&tools), Sizes::of(&reference));
    report.add(
        format!("tools/list, all {} tools: bytes", every.tools),
        kb(every.full),
        "KB",
        "<= 64 KB",
    );
    report.add(
        format!("tools/list, all {} tools: bytes/4", every.tools),
        kb(every.full / 4),
        "K tokens",
        "",
    );
    report.add(
        format!("tools/list, the {} reference tools: bytes", reference.tools),
        kb(reference.full),
        "KB",
        "<= 32 KB",
    );
    report.add(
        "tools/list, all tools, name + description + inputSchema only: bytes",
        kb(every.llm),
        "KB",
        "",
    );
}

/// One stdio session: idle RSS, then `system_status` and `firewall_rule_list` calls with their
/// latencies, the server's CPU per call and the result sizes; the floor for each.
async fn stdio_figures(report: &mut Report, bin: &Path, env: &stdio::Env, up: &Upstream) {
    let mut s = stdio::Server::spawn(env.command(bin, &[]));
    let pid = s.pid();
    s.initialize();
    s.notify("notifications/initialized");
    std::thread::sleep(Duration::from_millis(500));
    report.add(
        "RSS idle after initialize (stdio)",
        kib_to_mib(rss_kib(pid)),
        "MiB",
        "<= 8 MiB",
    );
    s.request_raw("tools/list", &json!({}));
    std::thread::sleep(Duration::from_millis(200));
    report.add(
        "RSS idle after tools/list (stdio)",
        kib_to_mib(rss_kib(pid)),
        "MiB",
        "",
    );

    let floor_client = floor_client(&up.ca_pem);
    let series = |s: &mut stdio::Server, tool: &str, args: Value, n: usize| {
        let cpu0 = cpu_ns(pid);
        let mut first = String::new();
        let lat = timed(n, || {
            let line = s.call(tool, &args);
            if first.is_empty() {
                line.clone_into(&mut first);
            }
        });
        let cpu = Duration::from_nanos(cpu_ns(pid).saturating_sub(cpu0));
        #[allow(clippy::cast_possible_truncation)]
        let per_call = cpu / n as u32;
        (lat, per_call, first)
    };
    let (status_lat, status_cpu, _) = series(&mut s, "system_status", json!({}), 150);
    let (list_lat, list_cpu, list_line) =
        series(&mut s, "firewall_rule_list", json!({"row_count": 1000}), 50);
    report.add(
        "RSS after 200 calls (stdio)",
        kib_to_mib(rss_kib(pid)),
        "MiB",
        "<= 16 MiB",
    );
    let (raw_lat, raw_cpu, raw_line) = series(
        &mut s,
        "firewall_rule_list",
        json!({"row_count": 1000, "raw": true}),
        20,
    );
    report.add(
        "RSS after 220 calls, raw lists included (stdio)",
        kib_to_mib(rss_kib(pid)),
        "MiB",
        "",
    );
    s.close();

    // The floor: the same requests, sequential, straight to the upstream.
    let f_status = floor_series(&floor_client, &up.url, "GET", "core/system/status", 150).await;
    let f_list = floor_series(
        &floor_client,
        &up.url,
        "POST",
        "firewall/filter/search_rule",
        50,
    )
    .await;
    let list = "stdio firewall_rule_list 1,000 rules";
    for (name, lat, floor, cpu, targets) in [
        (
            "stdio system_status",
            &status_lat,
            &f_status,
            status_cpu,
            Targets::default(),
        ),
        (
            &format!("{list} (compact)"),
            &list_lat,
            &f_list,
            list_cpu,
            Targets {
                p50: "<= 2x upstream",
                cpu: "<= 5 ms",
            },
        ),
        (
            &format!("{list} (raw)"),
            &raw_lat,
            &f_list,
            raw_cpu,
            Targets::default(),
        ),
    ] {
        report.latencies(name, lat, floor, Some(cpu), targets);
    }
    for (what, line, target) in [("compact", &list_line, "<= 130 KB"), ("raw", &raw_line, "")] {
        let msg: Value = serde_json::from_str(line).expect("result");
        let result = &msg["result"];
        let text: usize = result["content"].as_array().map_or(0, |c| {
            c.iter()
                .filter_map(|b| b["text"].as_str())
                .map(str::len)
                .sum()
        });
        let structured = serde_json::to_vec(&result["structuredContent"]).map_or(0, |v| v.len());
        report.add(
            format!("firewall_rule_list 1,000 rules ({what}): text bytes"),
            kb(text),
            "KB",
            target,
        );
        report.add(
            format!("firewall_rule_list 1,000 rules ({what}): text bytes/4"),
            kb(text / 4),
            "K tokens",
            "",
        );
        report.add(
            format!("firewall_rule_list 1,000 rules ({what}): structuredContent bytes"),
            kb(structured),
            "KB",
            "",
        );
        report.add(
            format!("firewall_rule_list 1,000 rules ({what}): whole response line"),
            kb(line.len()),
            "KB",
            "",
        );
    }
}

fn kib_to_mib(kib: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let k = kib as f64;
    k / 1024.0
}

fn floor_client(ca_pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(ca_pem).expect("CA"))
        .http1_only()
        .build()
        .expect("client")
}

async fn floor_series(
    c: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    n: usize,
) -> Vec<Duration> {
    let url = format!("{base}/api/{path}");
    let mut lat = Vec::with_capacity(n);
    for _ in 0..=n {
        let t = Instant::now();
        let req = if method == "GET" {
            c.get(&url)
        } else {
            c.post(&url)
                .header("content-type", "application/json")
                .body(r#"{"current":1,"rowCount":1000,"searchPhrase":""}"#)
        };
        let r = req
            .basic_auth("bench-key", Some("bench-secret"))
            .header("accept", "application/json")
            .send()
            .await
            .expect("upstream");
        let body = r.bytes().await.expect("body");
        // Decoding the JSON is part of any client's cost; the first call opens the connection.
        let _: Value = serde_json::from_slice(&body).expect("json");
        lat.push(t.elapsed());
    }
    lat.remove(0);
    lat
}

/// The HTTP server: calls/s and p99 of `system_status` per session count, the server's CPU per
/// call, the load generator's own CPU; the floor at each count; RSS after the runs.
async fn http_figures(report: &mut Report, bin: &Path, env: &stdio::Env, up: &Upstream) {
    let mut cmd = env.command(bin, &["--transport", "http", "--http-port", "0"]);
    cmd.env("OPNSENSE_HTTP_MAX_SESSIONS", "300");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the HTTP server");
    let pid = child.id();
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut url = String::new();
    let mut line = String::new();
    while url.is_empty() {
        line.clear();
        assert!(
            err.read_line(&mut line).expect("stderr") > 0,
            "the HTTP server exited"
        );
        if let Some(rest) = line.trim().strip_prefix("opnsense-mcp: listening on ") {
            url = rest.to_owned();
        }
    }
    // Keep draining stderr (audit lines) so the server never blocks on it.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while err.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    for n in SESSIONS {
        let mcp = load::Mcp::open(&url, n).await;
        let cpu0 = cpu_ns(pid);
        let mut run = mcp
            .run("system_status", json!({}), HTTP_RUN, HTTP_MAX_CALLS)
            .await;
        let server_cpu = Duration::from_nanos(cpu_ns(pid).saturating_sub(cpu0));
        mcp.close().await;
        let mut floor = load::floor(&up.url, &up.ca_pem, n, HTTP_RUN, HTTP_MAX_CALLS).await;
        report.vs(
            format!("HTTP {n} session(s), system_status: calls/s"),
            run.per_sec(),
            floor.per_sec(),
            "/s",
            if n == 1 || n == 32 {
                ">= 0.8x upstream"
            } else {
                ""
            },
        );
        report.vs(
            format!("HTTP {n} session(s), system_status: p99"),
            ms(quantile(&mut run.latencies, 0.99)),
            ms(quantile(&mut floor.latencies, 0.99)),
            "ms",
            "",
        );
        #[allow(clippy::cast_possible_truncation)]
        let per_call = server_cpu / run.calls.max(1) as u32;
        report.add(
            format!("HTTP {n} session(s): server CPU per call"),
            ms(per_call),
            "ms",
            "",
        );
        report.notes.push(format!(
            "HTTP {n} session(s): {} calls in {:.1} s; the load generator used {:.2} cores (MCP run) and {:.2} cores (floor run) of {}",
            run.calls,
            run.elapsed.as_secs_f64(),
            run.driver_cpu.as_secs_f64() / run.elapsed.as_secs_f64(),
            floor.driver_cpu.as_secs_f64() / floor.elapsed.as_secs_f64(),
            std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        ));
    }
    report.add(
        "RSS after the HTTP runs",
        kib_to_mib(rss_kib(pid)),
        "MiB",
        "",
    );
    #[allow(clippy::cast_possible_wrap)]
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let _ = child.wait();
}
