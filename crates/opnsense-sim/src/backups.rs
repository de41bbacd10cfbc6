//! `/conf/backup`: the configuration backup `Config::save()` writes on every save, its
//! `revision` block, the `config.xml` rendering and the `diff -u` of two backups.
//!
//! Facts (opnsense/core `src/opnsense/mvc/app/library/OPNsense/Core/Config.php`, identical
//! at 26.1.10 and 26.7.2):
//! - `save()` takes `$time = microtime(true)` and writes the backup as
//!   `"config-" . $time . ".xml"`: PHP renders the float with 14 significant digits, i.e.
//!   four decimals for today's Unix times, trailing zeros dropped (`backup()`).
//! - `getRevisionContext()` stamps `revision/time` with `sprintf('%0.2f', microtime(true))`,
//!   a second, later clock reading rounded to two decimals, so the revision a savepoint
//!   hands out does not name its backup file (opnsense/core#10721).
//! - `cleanupBackups()` keeps `backupCount()` files: `system/backupcount`, else 100.
//!
//! The simulator's clock advances at least 100 µs per save (a PHP save takes longer) and,
//! reproducing the stock firmware, never produces a stamp whose four decimals end in `00`:
//! on a real box such a stamp renders with two decimals and matches the revision by chance
//! (about one savepoint in a hundred); the simulator keeps stock savepoints unmatched so
//! tests are deterministic. With [`crate::SimConfig::rollback_restores`] (a fixed firmware)
//! revision and file name share one four-decimal stamp.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::areas::{IFACES, xml_escape};
use crate::state::{Category, Collection, Config, Record};

/// Who or what made a change: the `revision` block of a saved config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Revision {
    /// `user@REMOTE_ADDR` for API calls, `(root)` for scripts.
    pub username: String,
    /// The API key of the call (`setRevisionContext()` in ApiControllerBase).
    pub user_apitoken: Option<String>,
    /// `<REQUEST_URI or SCRIPT_NAME> made changes`.
    pub description: String,
}

impl Revision {
    /// A change made by an API call.
    pub fn api(user: &str, remote_addr: &str, api_key: &str, uri: &str) -> Revision {
        Revision {
            username: format!("{user}@{remote_addr}"),
            user_apitoken: Some(api_key.to_owned()),
            description: format!("{uri} made changes"),
        }
    }

    /// A change made by a script run as root (configd, boot).
    pub fn script(path: &str) -> Revision {
        Revision {
            username: "(root)".to_owned(),
            user_apitoken: None,
            description: format!("{path} made changes"),
        }
    }
}

/// The configuration a backup holds. Records are shared with the previous backup when
/// unchanged, so a hundred backups of a large configuration cost little memory.
#[derive(Debug, Clone, Default)]
struct Frozen {
    collections: [Vec<Arc<Record>>; Collection::COUNT],
    categories: Arc<Vec<Category>>,
    snat_mode: String,
}

impl Frozen {
    fn new(cfg: &Config, prev: Option<&Frozen>) -> Frozen {
        let collections = Collection::ALL.map(|c| {
            let old: &[Arc<Record>] = prev.map_or(&[], |p| &p.collections[c.index()]);
            let mut by_uuid: Option<HashMap<&str, &Arc<Record>>> = None;
            cfg[c]
                .iter()
                .enumerate()
                .map(|(i, rec)| {
                    if let Some(same) = old.get(i).filter(|o| ***o == *rec) {
                        return Arc::clone(same);
                    }
                    let map = by_uuid
                        .get_or_insert_with(|| old.iter().map(|o| (o.uuid.as_str(), o)).collect());
                    match map.get(rec.uuid.as_str()) {
                        Some(o) if ***o == *rec => Arc::clone(o),
                        _ => Arc::new(rec.clone()),
                    }
                })
                .collect()
        });
        let categories = match prev {
            Some(p) if *p.categories == cfg.categories => Arc::clone(&p.categories),
            _ => Arc::new(cfg.categories.clone()),
        };
        Frozen {
            collections,
            categories,
            snat_mode: cfg.snat_mode.clone(),
        }
    }

    fn thaw(&self) -> Config {
        let mut cfg = Config::default();
        for c in Collection::ALL {
            cfg[c] = self.collections[c.index()]
                .iter()
                .map(|r| (**r).clone())
                .collect();
        }
        cfg.categories.clone_from(&self.categories);
        cfg.snat_mode.clone_from(&self.snat_mode);
        cfg
    }
}

/// One file of `/conf/backup`.
#[derive(Debug)]
pub(crate) struct Backup {
    /// Save time in units of 100 µs since the epoch.
    ticks: u64,
    /// File name stamp: `config-<stamp>.xml`.
    pub stamp: String,
    /// `revision/time`.
    pub revision_time: String,
    /// The rest of the `revision` block.
    pub revision: Revision,
    content: Frozen,
    size: OnceLock<usize>,
}

impl Backup {
    /// `config-<stamp>.xml`, the id the backup API uses.
    pub fn id(&self) -> String {
        format!("config-{}.xml", self.stamp)
    }

    /// The configuration it holds.
    pub fn config(&self) -> Config {
        self.content.thaw()
    }

    /// The file's text.
    pub fn xml(&self) -> String {
        config_xml(&self.config(), Some((&self.revision, &self.revision_time)))
    }

    /// `filesize()` of the file.
    pub fn size(&self) -> usize {
        *self.size.get_or_init(|| self.xml().len())
    }

    /// A `backupsAction()` item.
    pub fn item(&self) -> Value {
        let secs = parse_secs(&self.revision_time);
        json!({
            "time": self.revision_time,
            "time_iso": iso8601(secs),
            "description": self.revision.description,
            "username": self.revision.username,
            "filesize": self.size(),
            "id": self.id(),
        })
    }

    /// The file's modification time as BSD `diff -u` prints it.
    fn mtime(&self) -> String {
        let secs = self.ticks / 10_000;
        let nanos = (self.ticks % 10_000) * 100_000;
        let (date, time) = civil(secs);
        format!("{date} {time}.{nanos:09} +0000")
    }
}

/// `(int)` of a PHP numeric string.
fn parse_secs(s: &str) -> u64 {
    s.split('.')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// The backups of this firewall, oldest first.
#[derive(Debug)]
pub(crate) struct Backups {
    entries: Vec<Backup>,
    last_ticks: u64,
    /// A fixed firmware: revision and file name share one stamp.
    fixed: bool,
    /// `backupCount()`.
    pub count: usize,
}

/// The current time in units of 100 µs.
fn now_ticks() -> u64 {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    u64::try_from(micros / 100).unwrap_or(u64::MAX)
}

impl Backups {
    /// No backups yet.
    pub fn new(fixed: bool, count: usize) -> Backups {
        Backups {
            entries: Vec::new(),
            last_ticks: 0,
            fixed,
            count,
        }
    }

    /// `Config::save()`: a new backup of `cfg`, then `cleanupBackups()`. Returns the
    /// `revision/time` written.
    pub fn save(&mut self, cfg: &Config, revision: Revision) -> String {
        let mut ticks = now_ticks().max(self.last_ticks + 1);
        if !self.fixed && ticks.is_multiple_of(100) {
            ticks += 1;
        }
        self.last_ticks = ticks;
        let four = format!("{}.{:04}", ticks / 10_000, ticks % 10_000);
        let (stamp, revision_time) = if self.fixed {
            (four.clone(), four)
        } else {
            // The revision's clock reading comes ~50 µs after the file's.
            #[allow(clippy::cast_precision_loss, reason = "ticks fit an f64 exactly")]
            let later = (ticks as f64 + 0.5) / 10_000.0;
            let stamp = four.trim_end_matches('0').trim_end_matches('.').to_owned();
            (stamp, format!("{later:.2}"))
        };
        let content = Frozen::new(cfg, self.entries.last().map(|b| &b.content));
        self.entries.push(Backup {
            ticks,
            stamp,
            revision_time: revision_time.clone(),
            revision,
            content,
            size: OnceLock::new(),
        });
        let excess = self.entries.len().saturating_sub(self.count);
        self.entries.drain(..excess);
        revision_time
    }

    /// Newest first (`backupsAction()` sorts on `time`, newest first).
    pub fn newest_first(&self) -> impl Iterator<Item = &Backup> {
        self.entries.iter().rev()
    }

    /// The backup with this file name.
    pub fn by_id(&self, id: &str) -> Option<&Backup> {
        self.entries.iter().find(|b| b.id() == id)
    }

    /// `getBackupFilename($revision)`: digits and dots of the revision name the file.
    pub fn by_revision(&self, revision: &str) -> Option<&Backup> {
        let clean: String = revision
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        self.by_id(&format!("config-{clean}.xml"))
    }

    /// `deleteBackupAction()`: removes the file; `false` when there is none.
    pub fn delete(&mut self, id: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|b| b.id() != id);
        self.entries.len() != before
    }

    /// `diff -u <backup2> <backup1>` as `diffAction()` returns it: one item per line,
    /// `htmlspecialchars(ENT_QUOTES | ENT_HTML401)`ed; empty when either is missing or
    /// both are the same file.
    pub fn diff(&self, backup1: &str, backup2: &str) -> Vec<String> {
        if backup1 == backup2 {
            return Vec::new();
        }
        let (Some(new), Some(old)) = (self.by_id(backup1), self.by_id(backup2)) else {
            return Vec::new();
        };
        let (a, b) = (old.xml(), new.xml());
        let a_lines: Vec<&str> = a.lines().collect();
        let b_lines: Vec<&str> = b.lines().collect();
        let hunks = unified(&a_lines, &b_lines, 3);
        if hunks.is_empty() {
            return Vec::new();
        }
        let mut out = vec![
            format!("--- /conf/backup/{}\t{}", old.id(), old.mtime()),
            format!("+++ /conf/backup/{}\t{}", new.id(), new.mtime()),
        ];
        out.extend(hunks);
        out.into_iter().map(|l| html_escape(&l)).collect()
    }
}

/// PHP `htmlspecialchars($s, ENT_QUOTES | ENT_HTML401)`.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('\'', "&#039;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One step of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Keep(usize, usize),
    Del(usize),
    Ins(usize),
}

/// The edit script turning `a` into `b`: common prefix and suffix, and a longest common
/// subsequence of the middle (when it is small enough; else the middle is replaced).
#[allow(clippy::many_single_char_names, reason = "the textbook LCS notation")]
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Keep(i, i)).collect();
    let (n, m) = (am.len(), bm.len());
    if n.saturating_mul(m) <= 4_000_000 {
        // lcs[i][j]: LCS length of am[i..] and bm[j..].
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        let at = |i: usize, j: usize| i * (m + 1) + j;
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[at(i, j)] = if am[i] == bm[j] {
                    lcs[at(i + 1, j + 1)] + 1
                } else {
                    lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push(Op::Keep(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
                // Deletions before insertions, as diff prints a changed block.
                ops.push(Op::Del(prefix + i));
                i += 1;
            } else {
                ops.push(Op::Ins(prefix + j));
                j += 1;
            }
        }
    } else {
        ops.extend((0..n).map(|i| Op::Del(prefix + i)));
        ops.extend((0..m).map(|j| Op::Ins(prefix + j)));
    }
    ops.extend((0..suffix).map(|k| Op::Keep(a.len() - suffix + k, b.len() - suffix + k)));
    ops
}

/// `-l,s` / `+l,s` of a hunk header (`,1` omitted; an empty side names the line before).
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

/// Unified diff hunks (header lines included) with `context` lines of context.
#[allow(clippy::many_single_char_names, reason = "the textbook diff notation")]
fn unified(a: &[&str], b: &[&str], context: usize) -> Vec<String> {
    let ops = edit_script(a, b);
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Keep(..)))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < changed.len() {
        // Group changes closer than 2 * context lines of unchanged text.
        let first = changed[k];
        let mut last = first;
        while k + 1 < changed.len() && changed[k + 1] - last <= 2 * context + 1 {
            k += 1;
            last = changed[k];
        }
        k += 1;
        let lo = first.saturating_sub(context);
        let hi = (last + context + 1).min(ops.len());
        let slice = &ops[lo..hi];
        // Line positions of the hunk on each side.
        let (mut a_start, mut b_start) = (None, None);
        let (mut a_len, mut b_len) = (0, 0);
        let mut body = Vec::new();
        for op in slice {
            match *op {
                Op::Keep(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    a_len += 1;
                    b_len += 1;
                    body.push(format!(" {}", a[i]));
                }
                Op::Del(i) => {
                    a_start.get_or_insert(i);
                    a_len += 1;
                    body.push(format!("-{}", a[i]));
                }
                Op::Ins(j) => {
                    b_start.get_or_insert(j);
                    b_len += 1;
                    body.push(format!("+{}", b[j]));
                }
            }
        }
        // An empty side starts after the lines of that side before the hunk.
        let before = |side_a: bool| {
            ops[..lo]
                .iter()
                .filter(|op| match op {
                    Op::Keep(..) => true,
                    Op::Del(_) => side_a,
                    Op::Ins(_) => !side_a,
                })
                .count()
        };
        let a_from = a_start.unwrap_or_else(|| before(true));
        let b_from = b_start.unwrap_or_else(|| before(false));
        out.push(format!(
            "@@ -{} +{} @@",
            range(if a_len == 0 { before(true) } else { a_from }, a_len),
            range(if b_len == 0 { before(false) } else { b_from }, b_len)
        ));
        out.extend(body);
    }
    out
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian), and the time of day.
fn civil(secs: u64) -> (String, String) {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let tod = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", tod / 3600, (tod % 3600) / 60, tod % 60),
    )
}

/// PHP `date('c', $secs)` with the simulated `Etc/UTC` time zone.
pub(crate) fn iso8601(secs: u64) -> String {
    let (date, time) = civil(secs);
    format!("{date}T{time}+00:00")
}

/// Each record as `<tag uuid="...">` with its fields, at `indent`.
fn xml_records(out: &mut String, tag: &str, records: &[Record], indent: &str) {
    for rec in records {
        let _ = writeln!(out, "{indent}<{tag} uuid=\"{}\">", rec.uuid);
        write_fields(out, &rec.fields, &format!("{indent}  "));
        let _ = writeln!(out, "{indent}</{tag}>");
    }
}

fn write_fields(out: &mut String, fields: &Map<String, Value>, indent: &str) {
    for (k, v) in fields {
        match v {
            Value::Object(inner) => {
                let _ = writeln!(out, "{indent}<{k}>");
                write_fields(out, inner, &format!("{indent}  "));
                let _ = writeln!(out, "{indent}</{k}>");
            }
            Value::String(s) if s.is_empty() => {
                let _ = writeln!(out, "{indent}<{k}/>");
            }
            other => {
                let text = other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned);
                let _ = writeln!(out, "{indent}<{k}>{}</{k}>", xml_escape(&text));
            }
        }
    }
}

/// A realistic `config.xml` of `cfg`, including the secrets a real one holds (fake
/// values) and, for a saved file, its `revision` block.
pub(crate) fn config_xml(cfg: &Config, revision: Option<(&Revision, &str)>) -> String {
    let mut x = String::from("<?xml version=\"1.0\"?>\n<opnsense>\n  <version>26.1</version>\n");
    x.push_str("  <theme>opnsense</theme>\n  <system>\n    <hostname>OPNsense</hostname>\n    <domain>localdomain</domain>\n");
    x.push_str("    <timezone>Etc/UTC</timezone>\n    <webgui>\n      <protocol>https</protocol>\n      <ssl-certref>65a0f0e0c1d2e</ssl-certref>\n    </webgui>\n");
    x.push_str("    <user uuid=\"1d5e0a3c-7b2f-4c8e-9a61-3f0b2d4e6a17\">\n      <name>root</name>\n      <descr>System Administrator</descr>\n      <scope>system</scope>\n      <groupname>admins</groupname>\n");
    x.push_str("      <password>$2y$11$Qm9ndXNIYXNoRm9yU2ltdWxhdG9yT25seS4uLi4uLi4uLi4uLi4u</password>\n      <uid>0</uid>\n");
    x.push_str("      <otp_seed>JBSWY3DPEHPK3PXP</otp_seed>\n      <apikeys>sim-key|$6$simsalt$ZmFrZWhhc2hmb3J0aGVzaW11bGF0b3Jvbmx5</apikeys>\n    </user>\n  </system>\n");
    x.push_str("  <interfaces>\n");
    for i in IFACES {
        let _ = writeln!(
            x,
            "    <{key}>\n      <if>{dev}</if>\n      <descr>{descr}</descr>\n      <enable>1</enable>\n      <ipaddr>{ip}</ipaddr>\n      <subnet>{bits}</subnet>",
            key = i.key,
            dev = i.device,
            descr = i.descr,
            ip = i.ipv4,
            bits = i.bits
        );
        if i.key == "wan" {
            x.push_str("      <gateway>WAN_GW</gateway>\n");
        }
        if let Some((v6, bits6)) = i.ipv6 {
            let _ = writeln!(
                x,
                "      <ipaddrv6>{v6}</ipaddrv6>\n      <subnetv6>{bits6}</subnetv6>"
            );
        }
        let _ = writeln!(x, "    </{}>", i.key);
    }
    x.push_str("  </interfaces>\n  <nat>\n");
    xml_records(&mut x, "rule", &cfg[Collection::PortForwards], "    ");
    if cfg.snat_mode.is_empty() {
        x.push_str("    <outbound/>\n");
    } else {
        let _ = writeln!(
            x,
            "    <outbound>\n      <mode>{}</mode>\n    </outbound>",
            xml_escape(&cfg.snat_mode)
        );
    }
    x.push_str("  </nat>\n  <staticroutes version=\"1.0.1\">\n");
    xml_records(&mut x, "route", &cfg[Collection::Routes], "    ");
    x.push_str("  </staticroutes>\n  <OPNsense>\n    <Firewall>\n      <Alias version=\"1.0.1\">\n        <geoip>\n          <url/>\n        </geoip>\n        <aliases>\n");
    xml_records(&mut x, "alias", &cfg[Collection::Aliases], "          ");
    x.push_str(
        "        </aliases>\n      </Alias>\n      <Filter version=\"1.0.4\">\n        <rules>\n",
    );
    xml_records(&mut x, "rule", &cfg[Collection::FilterRules], "          ");
    x.push_str("        </rules>\n        <snatrules>\n");
    xml_records(&mut x, "rule", &cfg[Collection::SourceNat], "          ");
    x.push_str("        </snatrules>\n      </Filter>\n      <Category version=\"1.0.0\">\n        <categories>\n");
    for c in &cfg.categories {
        let _ = writeln!(
            x,
            "          <category uuid=\"{}\">\n            <name>{}</name>\n            <auto>0</auto>\n            <color>{}</color>\n          </category>",
            c.uuid,
            xml_escape(&c.name),
            c.color.trim_start_matches('#')
        );
    }
    x.push_str("        </categories>\n      </Category>\n    </Firewall>\n    <unboundplus version=\"1.0.15\">\n      <hosts>\n");
    xml_records(&mut x, "host", &cfg[Collection::HostOverrides], "        ");
    x.push_str("      </hosts>\n      <dots>\n");
    xml_records(&mut x, "dot", &cfg[Collection::Forwards], "        ");
    x.push_str("      </dots>\n    </unboundplus>\n    <Kea>\n      <dhcp4 version=\"1.0.5\">\n        <subnets>\n");
    xml_records(&mut x, "subnet4", &cfg[Collection::Subnets], "          ");
    x.push_str("        </subnets>\n        <reservations>\n");
    xml_records(
        &mut x,
        "reservation",
        &cfg[Collection::Reservations],
        "          ",
    );
    x.push_str("        </reservations>\n      </dhcp4>\n    </Kea>\n  </OPNsense>\n  <dnsmasq version=\"1.0.9\">\n");
    xml_records(&mut x, "hosts", &cfg[Collection::DnsmasqHosts], "    ");
    x.push_str("  </dnsmasq>\n");
    x.push_str("  <cert>\n    <refid>65a0f0e0c1d2e</refid>\n    <descr>Web GUI TLS certificate</descr>\n    <crt>LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJmYWtlY2VydGlmaWNhdGUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=</crt>\n");
    x.push_str("    <prv>LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUVmYWtlcHJpdmF0ZWtleWZvcnNpbXVsYXRvcm9ubHkKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=</prv>\n  </cert>\n");
    if let Some((rev, time)) = revision {
        x.push_str("  <revision>\n");
        let _ = writeln!(x, "    <username>{}</username>", xml_escape(&rev.username));
        if let Some(token) = &rev.user_apitoken {
            let _ = writeln!(
                x,
                "    <user_apitoken>{}</user_apitoken>",
                xml_escape(token)
            );
        }
        let _ = writeln!(
            x,
            "    <description>{}</description>\n    <time>{time}</time>\n  </revision>",
            xml_escape(&rev.description)
        );
    }
    x.push_str("</opnsense>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_stamps_never_name_their_revision() {
        let mut b = Backups::new(false, 100);
        let cfg = Config::default();
        for _ in 0..300 {
            let rev = b.save(&cfg, Revision::script("/test"));
            assert_eq!(rev.split('.').nth(1).map(str::len), Some(2), "{rev}");
            assert!(b.by_revision(&rev).is_none(), "{rev}");
        }
        assert_eq!(b.newest_first().count(), 100, "retention");
        let stamps: Vec<&str> = b.newest_first().map(|x| x.stamp.as_str()).collect();
        let mut unique = stamps.clone();
        unique.dedup();
        assert_eq!(unique.len(), stamps.len(), "distinct file names");
        for s in stamps {
            let decimals = s.split('.').nth(1).unwrap_or_default();
            assert!((3..=4).contains(&decimals.len()), "{s}");
            assert!(!decimals.ends_with('0'), "PHP drops trailing zeros: {s}");
        }
    }

    #[test]
    fn fixed_revision_names_its_backup() {
        let mut b = Backups::new(true, 2);
        let cfg = Config::default();
        let rev = b.save(&cfg, Revision::script("/test"));
        assert_eq!(rev.split('.').nth(1).map(str::len), Some(4));
        assert_eq!(
            b.by_revision(&rev).map(Backup::id),
            Some(format!("config-{rev}.xml"))
        );
        b.save(&cfg, Revision::script("/test"));
        b.save(&cfg, Revision::script("/test"));
        assert!(b.by_revision(&rev).is_none(), "cleaned up beyond count");
        let mut none = Backups::new(true, 0);
        let rev = none.save(&cfg, Revision::script("/test"));
        assert!(none.by_revision(&rev).is_none(), "backupcount 0 keeps none");
    }

    #[test]
    fn unchanged_records_are_shared() {
        let mut cfg = Config::default();
        for i in 0..3 {
            cfg[Collection::FilterRules].push(Record::new(format!("r{i}")));
        }
        let first = Frozen::new(&cfg, None);
        cfg[Collection::FilterRules][1].set("description", "changed");
        cfg[Collection::FilterRules].remove(0);
        let second = Frozen::new(&cfg, Some(&first));
        let (a, b) = (
            &first.collections[Collection::FilterRules.index()],
            &second.collections[Collection::FilterRules.index()],
        );
        assert!(Arc::ptr_eq(&a[2], &b[1]), "moved but equal: shared");
        assert!(!Arc::ptr_eq(&a[1], &b[0]), "changed: copied");
        assert_eq!(second.thaw(), cfg);
    }

    #[test]
    fn unified_diff_hunks_as_diff_u_prints_them() {
        // Expected texts are GNU diffutils 3.8 `diff -u` output for the same inputs.
        let split = |s: &'static str| -> Vec<&'static str> { s.split(' ').collect() };
        let a = split("a b c d e f g h i j");
        let b = split("a b c X e f g h i j k");
        assert_eq!(
            unified(&a, &b, 3).join("\n"),
            "@@ -1,10 +1,11 @@\n a\n b\n c\n-d\n+X\n e\n f\n g\n h\n i\n j\n+k"
        );
        let a = split("a b c d e f g h i j l m");
        let b = split("a b c X e f g h i j l m k");
        assert_eq!(
            unified(&a, &b, 3).join("\n"),
            "@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+X\n e\n f\n g\n@@ -10,3 +10,4 @@\n j\n l\n m\n+k"
        );
        assert!(unified(&a, &a, 3).is_empty());
        assert_eq!(unified(&["x"], &[], 3).join("\n"), "@@ -1 +0,0 @@\n-x");
        assert_eq!(unified(&[], &["x"], 3).join("\n"), "@@ -0,0 +1 @@\n+x");
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_767_361_234), "2026-01-02T13:40:34+00:00");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00+00:00");
        assert_eq!(
            html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#039;x&#039;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
