//! Generated arguments for every tool (a seeded generator, so every run is the same): wrong
//! types, missing and unknown fields, huge strings, unicode, control characters, path-traversal
//! strings in path-bound arguments, numbers outside the advertised range.
//!
//! Oracles: an argument object that breaks the tool's own input schema (type, required,
//! `additionalProperties: false`, minimum/maximum/format) or puts a control character, a
//! 100 kB string or a path-changing string where it does not belong must be refused with
//! `isError: true` **before** any upstream request; valid variations of the tool's contract
//! case (paging, uuid, alias name, service module, description text) must produce exactly the
//! expected requests. Every tool that takes `dry_run` also gets it: `true` must be answered as a
//! dry run with no request but reads (GETs and searches) reaching OPNsense, `false` must send
//! exactly the case's requests, and a value that is not a boolean must be refused before any
//! request, naming `dry_run`. No call may panic the session or be a protocol error.
//!
//! Each tool runs on a session of its own. A case with a `setup` (a change tool and the change
//! it acts on) has its setup made once for the calls that must be refused, and again, on a fresh
//! session, for every call that must succeed; every change a call leaves pending is settled.
//!
//! Nothing here names a tool: each tool of the catalogue starts from its first successful
//! contract case, and what may vary is read from that case and the tool's input schema: the
//! top-level arguments whose value is a segment of a request path (a uuid gets another uuid, an
//! enumerated one another listed value, any other an identifier of letters, digits and
//! underscores), and a `.../description` argument whose text the case's request body carries
//! (it gets other text, expected at the same place in the body).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use opnsense_mcp_tools::ToolOptions;
use serde_json::{Map, Value, json};
use support::{
    Case, Exchange, Session, catalogue, describe, is_error, load_contract, mount, mount_catch_all,
    print_table, requests_diff, resolve as placeholders, run_setup, short, structured, text,
};

/// Time limit of one generated call (a healthy one takes milliseconds).
const LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Generated argument objects per tool.
const PER_TOOL: usize = 240;

// ---------------------------------------------------------------------------------------------
// A small deterministic generator (splitmix64)
// ---------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn seeded(name: &str) -> Self {
        // FNV-1a of the tool name: a stable seed per tool.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Self(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo + 1).unwrap_or(1);
        lo + i64::try_from(self.next() % span).unwrap_or(0)
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Characters for text that must be accepted: letters, accents, CJK, emoji, RTL, punctuation
/// including the path-ish ones (they are harmless inside a JSON body).
const TEXT_POOL: &[&str] = &[
    "a", "Z", "7", " ", "-", "_", ".", "é", "ß", "Ω", "ж", "中", "文", "😀", "🔥", "ש", "ع", "/",
    "../", "%2f", "?", "#", "&", "\"", "'", "\\", "<", ">", "{", "}", "$", "`", "\u{200b}",
    "\u{feff}",
];

fn text_value(rng: &mut Rng, max_chars: usize) -> String {
    let want = 1 + rng.below(max_chars);
    let mut s = String::new();
    while s.chars().count() < want {
        let piece = *rng.pick(TEXT_POOL);
        s.push_str(piece);
    }
    let s: String = s.chars().take(want).collect();
    // Leading/trailing blanks are a different question; keep the value unambiguous.
    let t = s.trim();
    if t.is_empty() {
        "x".to_owned()
    } else {
        t.to_owned()
    }
}

/// Control characters (`char::is_control`).
const CONTROLS: &[&str] = &["\n", "\r", "\0", "\u{1b}", "\t", "\u{7f}", "\u{85}", "\r\n"];

/// Values that try to change a request path.
const TRAVERSAL: &[&str] = &[
    "../",
    "../../core/firmware/poweroff",
    "..%2f..%2f",
    "%2f",
    "%2F",
    "/",
    "?x=1",
    "#frag",
    "a b",
    "\u{ff0e}\u{ff0e}\u{ff0f}",
    "%00",
    "..\\",
    "ünïcødé",
    "",
];

// ---------------------------------------------------------------------------------------------
// Reading the input schema
// ---------------------------------------------------------------------------------------------

/// One argument position: a JSON pointer into the arguments and what the schema says of it.
#[derive(Debug, Clone)]
struct Field {
    ptr: String,
    types: BTreeSet<String>,
    enumerated: bool,
    /// The listed values (`enum`, `const`).
    values: Vec<Value>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    format: Option<String>,
    /// `pattern`: the value has a fixed shape.
    patterned: bool,
    /// `additionalProperties: false` and its property names (objects only).
    closed: Option<BTreeSet<String>>,
    required: Vec<String>,
    /// A property its object may leave out: a `null` for it is taken as its absence (the
    /// schema does not advertise that `null`, and it is not a wrong value).
    optional: bool,
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.trim_start_matches('#');
            root.pointer(ptr).map_or(node, |t| resolve(root, t))
        }
        None => node,
    }
}

/// The alternatives of a node (itself, or its anyOf/oneOf members), resolved.
fn alternatives<'a>(root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    let node = resolve(root, node);
    let mut out = Vec::new();
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = node.get(key).and_then(Value::as_array) {
            for a in alts {
                out.extend(alternatives(root, a));
            }
        }
    }
    if out.is_empty() || node.get("type").is_some() {
        out.push(node);
    }
    out
}

fn walk(root: &Value, node: &Value, ptr: &str, depth: usize, out: &mut Vec<Field>) {
    let alts = alternatives(root, node);
    let mut types = BTreeSet::new();
    let mut enumerated = false;
    let mut values = Vec::new();
    let (mut minimum, mut maximum, mut format) = (None, None, None);
    let mut patterned = false;
    for a in &alts {
        patterned |= a.get("pattern").is_some();
        match a.get("type") {
            Some(Value::String(t)) => {
                types.insert(t.clone());
            }
            Some(Value::Array(ts)) => {
                types.extend(ts.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            _ => {}
        }
        if let Some(listed) = a.get("enum").and_then(Value::as_array) {
            enumerated = true;
            values.extend(listed.iter().cloned());
        }
        if let Some(c) = a.get("const") {
            enumerated = true;
            values.push(c.clone());
        }
        minimum = minimum.or_else(|| a.get("minimum").and_then(Value::as_f64));
        maximum = maximum.or_else(|| a.get("maximum").and_then(Value::as_f64));
        format = format.or_else(|| a.get("format").and_then(Value::as_str).map(str::to_owned));
    }
    let object = alts
        .iter()
        .find(|a| a.get("properties").is_some())
        .or_else(|| {
            alts.iter()
                .find(|a| a.get("additionalProperties").is_some())
        })
        .copied();
    let closed = object.and_then(|o| {
        (o.get("additionalProperties") == Some(&Value::Bool(false))).then(|| {
            o.get("properties")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        })
    });
    let required: Vec<String> = object
        .and_then(|o| o.get("required"))
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    out.push(Field {
        ptr: ptr.to_owned(),
        types,
        enumerated,
        values,
        minimum,
        maximum,
        format,
        patterned,
        closed,
        required: required.clone(),
        optional: false,
    });
    if depth >= 4 {
        return;
    }
    if let Some(props) = object
        .and_then(|o| o.get("properties"))
        .and_then(Value::as_object)
    {
        for (k, v) in props {
            let at = out.len();
            walk(root, v, &format!("{ptr}/{k}"), depth + 1, out);
            out[at].optional = !required.contains(k);
        }
    }
    if let Some(items) = alts.iter().find_map(|a| a.get("items")) {
        walk(root, items, &format!("{ptr}/0"), depth + 1, out);
    }
}

fn fields(schema: &Value) -> Vec<Field> {
    let mut out = Vec::new();
    walk(schema, schema, "", 0, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// What a tool's contract case says may vary
// ---------------------------------------------------------------------------------------------

/// A top-level argument whose value is a segment of a request path of the case.
#[derive(Debug, Clone)]
struct PathArg {
    /// The argument name.
    name: String,
    /// Its value in the case, as the path carries it (a uuid in lower case).
    value: String,
    /// The values the schema lists for it (empty: not enumerated).
    listed: Vec<String>,
    /// The schema gives it a `pattern`: a variation keeps the case value's shape (its digits
    /// change, nothing else).
    patterned: bool,
}

/// Where a record's description goes: (argument pointer, request index, body pointer).
type DescriptionSlot = (String, usize, String);

/// What the fuzzer reads off a tool's contract case and schema.
#[derive(Debug, Clone, Default)]
struct Derived {
    path_args: Vec<PathArg>,
    description: Option<DescriptionSlot>,
}

/// Every string leaf of `v`, with its JSON pointer.
fn string_leaves(v: &Value, ptr: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((ptr.to_owned(), s.clone())),
        Value::Object(m) => {
            for (k, child) in m {
                string_leaves(child, &format!("{ptr}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                string_leaves(child, &format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}

impl Derived {
    fn of(case: &Case, fields: &[Field]) -> Self {
        let mut path_args = Vec::new();
        if let Some(args) = case.arguments.as_object() {
            for (name, v) in args {
                let Some(s) = v.as_str() else { continue };
                let value = if name == "uuid" {
                    s.to_ascii_lowercase()
                } else {
                    s.to_owned()
                };
                let in_path = case
                    .upstream
                    .iter()
                    .any(|x| x.path.split('/').any(|seg| seg == value));
                if !in_path {
                    continue;
                }
                let field = fields.iter().find(|f| f.ptr == format!("/{name}"));
                let patterned = field.is_some_and(|f| f.patterned);
                let listed = field
                    .map(|f| {
                        f.values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                path_args.push(PathArg {
                    name: name.clone(),
                    value,
                    listed,
                    patterned,
                });
            }
        }
        let mut leaves = Vec::new();
        string_leaves(&case.arguments, "", &mut leaves);
        let description = leaves
            .iter()
            .filter(|(ptr, _)| ptr.ends_with("/description"))
            .find_map(|(arg_ptr, text)| {
                case.upstream.iter().enumerate().find_map(|(i, x)| {
                    let mut sent = Vec::new();
                    string_leaves(x.body.as_ref()?, "", &mut sent);
                    sent.into_iter()
                        .find(|(_, t)| t == text)
                        .map(|(body_ptr, _)| (arg_ptr.clone(), i, body_ptr))
                })
            });
        Self {
            path_args,
            description,
        }
    }

    /// Whether the argument at `ptr` ends up in a request path (or in an OPNsense key list).
    fn path_bound(&self, ptr: &str) -> bool {
        self.path_args.iter().any(|a| ptr == format!("/{}", a.name))
            || ptr.ends_with("/interface/0")
            || ptr.ends_with("/interfaces/0")
            || ptr == "/alias/interface"
            || ptr == "/route/gateway"
    }
}

/// Sets `ptr` in `v`, creating objects (or a one-element array for `0`) on the way.
fn set_pointer(v: &mut Value, ptr: &str, value: Value) {
    let tokens: Vec<&str> = ptr.split('/').skip(1).collect();
    let mut cur = v;
    for (i, tok) in tokens.iter().enumerate() {
        let last = i + 1 == tokens.len();
        let next_is_index = tokens.get(i + 1).is_some_and(|t| *t == "0");
        if let Ok(idx) = tok.parse::<usize>()
            && cur.is_array()
        {
            let arr = cur.as_array_mut().expect("array");
            if arr.len() <= idx {
                arr.resize(idx + 1, Value::Null);
            }
            if last {
                arr[idx] = value;
                return;
            }
            cur = &mut arr[idx];
            continue;
        }
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let map = cur.as_object_mut().expect("object");
        if last {
            map.insert((*tok).to_owned(), value);
            return;
        }
        let entry = map.entry((*tok).to_owned()).or_insert(Value::Null);
        if next_is_index && !entry.is_array() {
            *entry = Value::Array(Vec::new());
        } else if !next_is_index && !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        cur = entry;
    }
}

fn remove_pointer(v: &mut Value, ptr: &str) {
    let (parent, key) = ptr.rsplit_once('/').unwrap_or(("", ptr));
    if let Some(Value::Object(m)) = v.pointer_mut(parent) {
        m.remove(key);
    }
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// A generated call: the arguments, what kind of input it is and, for valid ones, the exact
/// requests expected.
struct Generated {
    args: Value,
    kind: String,
    expect: Option<Vec<Exchange>>,
    /// A dry run: the case's requests are answered, only reads may be sent, and the answer
    /// must say `dry_run: true`.
    dry: bool,
    /// A refusal must name this argument.
    names: Option<&'static str>,
}

/// A value of a JSON type the field does not accept.
fn wrong_value(rng: &mut Rng, f: &Field) -> Option<Value> {
    let mut candidates: Vec<Value> = Vec::new();
    let t = &f.types;
    if !t.contains("string") {
        candidates.push(json!("true"));
        candidates.push(json!("7"));
    }
    if !t.contains("integer") && !t.contains("number") {
        candidates.push(json!(7));
        candidates.push(json!(0));
    }
    if !t.contains("number") {
        candidates.push(json!(1.5));
    }
    if !t.contains("boolean") {
        candidates.push(json!(true));
    }
    if !t.contains("array") {
        candidates.push(json!(["x"]));
    }
    if !t.contains("object") {
        candidates.push(json!({"value": "x"}));
    }
    if !t.contains("null") && !f.optional {
        candidates.push(Value::Null);
    }
    (!candidates.is_empty() && !t.is_empty())
        .then(|| candidates[rng.below(candidates.len())].clone())
}

/// A number outside the field's advertised range, if it has one.
#[allow(clippy::cast_possible_truncation)] // schema bounds are small integers
fn out_of_range(rng: &mut Rng, f: &Field) -> Option<Value> {
    let integer = f.types.contains("integer");
    if !integer && !f.types.contains("number") {
        return None;
    }
    let mut c: Vec<Value> = Vec::new();
    if let Some(min) = f.minimum {
        c.push(if integer {
            json!(min as i64 - 1)
        } else {
            json!(min - 0.25)
        });
        c.push(json!(-1e12));
    }
    if let Some(max) = f.maximum {
        c.push(if integer {
            json!(max as i64 + 1)
        } else {
            json!(max + 0.5)
        });
        c.push(json!(1e15));
    }
    match f.format.as_deref() {
        Some("uint32") => {
            c.push(json!(4_294_967_296_u64));
            c.push(json!(-1));
        }
        Some("uint16") => {
            c.push(json!(65_536));
            c.push(json!(-1));
        }
        Some("uint8") => c.push(json!(256)),
        Some("uint64" | "uint") => c.push(json!(-1)),
        _ => {}
    }
    if integer {
        c.push(json!(2.5));
        c.push(json!(1e300));
    }
    if c.is_empty()
        || (f.minimum.is_none() && f.maximum.is_none() && f.format.is_none() && !integer)
    {
        return None;
    }
    Some(c[rng.below(c.len())].clone())
}

/// A string the field must refuse: huge, with a control character, or (path-bound and
/// enumerated fields) one that would change a path or is not a listed value.
fn poison(
    rng: &mut Rng,
    f: &Field,
    current: Option<&Value>,
    derived: &Derived,
) -> Option<(Value, &'static str)> {
    if !f.types.contains("string") {
        return None;
    }
    let base = current.and_then(Value::as_str).unwrap_or("x").to_owned();
    let choice = rng.below(10);
    Some(match choice {
        0 => (
            Value::String("A".repeat(100 * 1024)),
            "huge string (100 kB)",
        ),
        1 => {
            let mut s = "é中😀".repeat(100 * 1024 / 9);
            s.push('x');
            (Value::String(s), "huge unicode string (100 kB)")
        }
        2..=4 => {
            let c = rng.pick(CONTROLS);
            let at = rng.below(base.chars().count() + 1);
            let mut s: String = base.chars().take(at).collect();
            s.push_str(c);
            s.extend(base.chars().skip(at));
            (Value::String(s), "control character")
        }
        _ if derived.path_bound(&f.ptr) || f.enumerated => {
            let t = rng.pick(TRAVERSAL);
            let s = match rng.below(3) {
                0 => (*t).to_owned(),
                1 => format!("{base}{t}"),
                _ => format!("{t}{base}"),
            };
            if s == base {
                return None;
            }
            (
                Value::String(s),
                if f.enumerated {
                    "value not listed / traversal"
                } else {
                    "path traversal / unicode in a path argument"
                },
            )
        }
        _ => return None,
    })
}

fn random_uuid(rng: &mut Rng) -> String {
    let hex = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| {
                let c = b"0123456789abcdefABCDEF"[rng.below(22)];
                char::from(c)
            })
            .collect()
    };
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

/// Replaces every occurrence of `from` in the exchanges' paths and bodies.
fn substitute(exchanges: &[Exchange], from: &str, to: &str) -> Vec<Exchange> {
    exchanges
        .iter()
        .map(|x| {
            let mut x = x.clone();
            x.path = x.path.replace(from, to);
            if let Some(b) = &x.body {
                let s = b.to_string().replace(from, to);
                x.body = serde_json::from_str(&s).ok();
            }
            if let Some(j) = &x.response.json {
                let s = j.to_string().replace(from, to);
                x.response.json = serde_json::from_str(&s).ok();
            }
            x
        })
        .collect()
}

/// Replaces every path segment equal to `from` by `to`.
fn substitute_segment(exchanges: &[Exchange], from: &str, to: &str) -> Vec<Exchange> {
    exchanges
        .iter()
        .map(|x| {
            let mut x = x.clone();
            x.path = x
                .path
                .split('/')
                .map(|seg| if seg == from { to } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            x
        })
        .collect()
}

/// An identifier of 1 to 32 letters, digits and underscores (OPNsense's alias-name rule).
fn identifier(rng: &mut Rng) -> String {
    let len = 1 + rng.below(32);
    (0..len)
        .map(|_| {
            char::from(
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"[rng.below(63)],
            )
        })
        .collect()
}

/// `value` with every digit replaced by a random one (a value of the same shape, for
/// arguments whose schema gives a `pattern`).
fn same_shape(rng: &mut Rng, value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from(b"0123456789"[rng.below(10)])
            } else {
                c
            }
        })
        .collect()
}

/// Sets a fresh description in `args` and where the case's request carries it.
fn vary_description(
    rng: &mut Rng,
    slot: &DescriptionSlot,
    args: &mut Value,
    expect: &mut [Exchange],
) {
    let (arg_ptr, idx, body_ptr) = slot;
    let d = text_value(rng, 255);
    set_pointer(args, arg_ptr, json!(d));
    if let Some(b) = expect.get_mut(*idx).and_then(|x| x.body.as_mut()) {
        set_pointer(b, body_ptr, json!(d));
    }
}

/// A valid variation of the contract case, with its exact requests, when the tool's
/// arguments allow one.
fn valid(
    rng: &mut Rng,
    case: &Case,
    props: &BTreeSet<String>,
    derived: &Derived,
    last_page: bool,
) -> Generated {
    let paging: BTreeSet<&str> = [
        "current",
        "row_count",
        "search_phrase",
        "raw",
        "inactive",
        "interfaces",
    ]
    .into();
    let base = &case.arguments;
    if let Some(x0) = case.upstream.first()
        && !props.is_empty()
        && props.iter().all(|p| paging.contains(p.as_str()))
        && props.contains("current")
    {
        let mut args = Map::new();
        let mut current = match rng.below(4) {
            0 => None,
            1 => Some(1),
            2 => Some(rng.range(1, 50)),
            _ => Some(rng.range(1, 4_294_967_295)),
        };
        let row_count = match rng.below(5) {
            0 => None,
            1 => Some(-1),
            2 => Some(1000),
            _ => Some(rng.range(1, 1000)),
        };
        let phrase = match rng.below(3) {
            0 => None,
            1 => Some(String::new()),
            _ => Some(text_value(rng, 256)),
        };
        if let Some(c) = current {
            args.insert("current".into(), json!(c));
        }
        if let Some(r) = row_count {
            args.insert("row_count".into(), json!(r));
        }
        if let Some(p) = &phrase {
            args.insert("search_phrase".into(), json!(p));
        }
        if rng.coin() {
            args.insert("raw".into(), json!(rng.coin()));
        }
        let mut interfaces: Vec<String> = Vec::new();
        if props.contains("interfaces") && rng.coin() {
            let n = rng.below(4);
            interfaces = (0..n)
                .map(|_| {
                    (*rng.pick(&["lan", "wan", "opt1", "opt12", "vlan0.10", "wg_1", "LAN-2"]))
                        .to_owned()
                })
                .collect();
            args.insert("interfaces".into(), json!(interfaces));
        }
        if props.contains("inactive") && rng.coin() {
            args.insert(
                "inactive".into(),
                if rng.coin() {
                    json!(rng.coin())
                } else {
                    json!(rng.range(0, 1))
                },
            );
        }
        let mut x = x0.clone();
        let mut kind = "valid paging";
        if last_page && x.body.is_some() {
            // The last page number OPNsense can be asked for, with a total beyond it.
            args.insert("current".into(), json!(u32::MAX));
            current = Some(i64::from(u32::MAX));
            if let Some(j) = x.response.json.as_mut() {
                j["total"] = json!(10_000_000_000_000_u64);
            }
            kind = LAST_PAGE;
        }
        if x.body.is_some() {
            let rows = match row_count {
                None => 100,
                Some(-1) => 1000,
                Some(n) => n,
            };
            let mut body = json!({
                "current": current.unwrap_or(1),
                "rowCount": rows,
                "searchPhrase": phrase.clone().unwrap_or_default(),
            });
            if !interfaces.is_empty() {
                body["selected_interfaces"] = json!(interfaces);
            }
            x.body = Some(body);
        }
        let mut exchanges = vec![x];
        exchanges.extend(case.upstream.iter().skip(1).cloned());
        if phrase.as_ref().is_some_and(|p| p.len() > 256) {
            kind = MULTIBYTE_PHRASE;
        }
        return Generated {
            args: Value::Object(args),
            kind: kind.into(),
            dry: false,
            names: None,
            expect: Some(exchanges),
        };
    }
    if let Some(arg) = derived.path_args.iter().find(|a| a.name == "uuid") {
        let new = random_uuid(rng);
        let mut args = base.clone();
        args["uuid"] = json!(new);
        let mut expect = substitute(&case.upstream, &arg.value, &new.to_ascii_lowercase());
        let mut kind = "valid uuid".to_owned();
        if let Some(slot) = &derived.description
            && rng.coin()
        {
            vary_description(rng, slot, &mut args, &mut expect);
            kind = "valid uuid + description".into();
        }
        return Generated {
            args,
            kind,
            dry: false,
            names: None,
            expect: Some(expect),
        };
    }
    if let Some(arg) = derived.path_args.first() {
        let new = if arg.patterned {
            same_shape(rng, &arg.value)
        } else if arg.listed.is_empty() {
            identifier(rng)
        } else {
            rng.pick(&arg.listed).clone()
        };
        let mut args = base.clone();
        args[arg.name.as_str()] = json!(new);
        return Generated {
            args,
            kind: format!("valid {}", arg.name),
            dry: false,
            names: None,
            expect: Some(substitute_segment(&case.upstream, &arg.value, &new)),
        };
    }
    if let Some(slot) = &derived.description {
        let mut args = base.clone();
        let mut expect = case.upstream.clone();
        vary_description(rng, slot, &mut args, &mut expect);
        return Generated {
            args,
            kind: "valid description".into(),
            dry: false,
            names: None,
            expect: Some(expect),
        };
    }
    // raw / include_secrets / no arguments: only the case's own request is predictable.
    let mut args = base.clone();
    if props.contains("raw") && base.get("raw").is_none() && rng.coin() {
        args["raw"] = json!(false);
    }
    if props.contains("include_secrets") && base.get("include_secrets").is_none() && rng.coin() {
        args["include_secrets"] = json!(false);
    }
    Generated {
        args,
        kind: "valid (contract arguments)".into(),
        dry: false,
        names: None,
        expect: Some(case.upstream.clone()),
    }
}

/// An invalid mutation of `base` (a valid argument object).
fn invalid(rng: &mut Rng, base: &Value, fields: &[Field], derived: &Derived) -> Option<Generated> {
    let mut args = base.clone();
    let kind: String = match rng.below(6) {
        0 => {
            let closed: Vec<&Field> = fields
                .iter()
                .filter(|f| {
                    f.closed.is_some() && args.pointer(&f.ptr).is_some_and(Value::is_object)
                })
                .collect();
            if closed.is_empty() {
                return None;
            }
            let f = *rng.pick(&closed);
            let names = [
                "bogus",
                "Raw",
                "UUID",
                "__proto__",
                "constructor",
                "current ",
                "déjà_vu",
                "x-extra",
                "rowCount",
                "searchPhrase",
                "0",
            ];
            let name = (*rng.pick(&names)).to_owned();
            if f.closed.as_ref().is_some_and(|c| c.contains(&name)) {
                return None;
            }
            let v = rng
                .pick(&[
                    json!(1),
                    json!("x"),
                    json!(null),
                    json!({"a": [1]}),
                    json!(true),
                ])
                .clone();
            set_pointer(&mut args, &format!("{}/{name}", f.ptr), v);
            "unknown field".into()
        }
        1 => {
            let with_required: Vec<(&Field, &String)> = fields
                .iter()
                .filter(|f| args.pointer(&f.ptr).is_some_and(Value::is_object))
                .flat_map(|f| f.required.iter().map(move |r| (f, r)))
                .filter(|(f, r)| args.pointer(&format!("{}/{r}", f.ptr)).is_some())
                .collect();
            if with_required.is_empty() {
                return None;
            }
            let (f, r) = *rng.pick(&with_required);
            remove_pointer(&mut args, &format!("{}/{r}", f.ptr));
            "missing required field".into()
        }
        2 | 3 => {
            let typed: Vec<&Field> = fields
                .iter()
                .filter(|f| !f.ptr.is_empty() && !f.types.is_empty())
                .collect();
            if typed.is_empty() {
                return None;
            }
            let f = *rng.pick(&typed);
            let v = wrong_value(rng, f)?;
            set_pointer(&mut args, &f.ptr, v);
            "wrong type".into()
        }
        4 => {
            let strings: Vec<&Field> = fields
                .iter()
                .filter(|f| f.types.contains("string"))
                .collect();
            if strings.is_empty() {
                return None;
            }
            let f = *rng.pick(&strings);
            let (v, what) = poison(rng, f, base.pointer(&f.ptr), derived)?;
            set_pointer(&mut args, &f.ptr, v);
            what.into()
        }
        _ => {
            let numbers: Vec<&Field> = fields
                .iter()
                .filter(|f| f.types.contains("integer") || f.types.contains("number"))
                .collect();
            if numbers.is_empty() {
                return None;
            }
            let f = *rng.pick(&numbers);
            let v = out_of_range(rng, f)?;
            set_pointer(&mut args, &f.ptr, v);
            "number out of range".into()
        }
    };
    Some(Generated {
        args,
        kind,
        dry: false,
        names: None,
        expect: None,
    })
}

/// Values of `dry_run` that are not a boolean.
const NOT_BOOLEAN: &[&str] = &["true", "yes", "1", "", "false"];

/// A valid call varied on `dry_run`: `true` (the call's requests are answered, only reads may
/// be sent, and the answer must say it was a dry run), `false` (exactly the call's requests),
/// or a value that is not a boolean (refused before any request, naming `dry_run`).
fn dry_run_variation(rng: &mut Rng, valid: Generated) -> Generated {
    let Generated {
        mut args, expect, ..
    } = valid;
    match rng.below(3) {
        0 => {
            args["dry_run"] = json!(true);
            Generated {
                args,
                kind: "valid dry run".into(),
                dry: true,
                names: None,
                expect,
            }
        }
        1 => {
            args["dry_run"] = json!(false);
            Generated {
                args,
                kind: "valid, dry_run false".into(),
                dry: false,
                names: None,
                expect,
            }
        }
        _ => {
            args["dry_run"] = match rng.below(4) {
                0 => json!(rng.pick(NOT_BOOLEAN)),
                1 => json!(rng.range(0, 1)),
                2 => Value::Null,
                _ => json!([true]),
            };
            Generated {
                args,
                kind: "dry_run not a boolean".into(),
                dry: false,
                names: Some("dry_run"),
                expect: None,
            }
        }
    }
}

/// Whether a received request only reads: a GET, or a search (a POST whose JSON body pages).
fn is_read(r: &wiremock::Request) -> bool {
    r.method.as_str().eq_ignore_ascii_case("GET")
        || (r.method.as_str().eq_ignore_ascii_case("POST")
            && serde_json::from_slice::<Value>(&r.body)
                .is_ok_and(|b| b.get("rowCount").is_some() && b.get("current").is_some()))
}

/// Deviations known and reported, not yet fixed: (tool, kind of input, substring of the
/// arguments). Listed so the run stays green while they are tracked; remove once fixed.
const KNOWN: &[(&str, &str, &str)] = &[];

/// Page `u32::MAX` of a search whose total goes beyond it.
const LAST_PAGE: &str = "valid paging, current = u32::MAX, total beyond it";

/// A search phrase of at most 256 characters that takes more than 256 bytes in UTF-8.
const MULTIBYTE_PHRASE: &str = "valid paging, phrase <= 256 chars but > 256 bytes";

fn known(tool: &str, kind: &str) -> bool {
    KNOWN
        .iter()
        .any(|(t, k, _)| (*t == tool || t.is_empty()) && *k == kind)
}

#[derive(Default)]
struct Tally {
    generated: usize,
    refused: usize,
    valid: usize,
    failed: usize,
    known: usize,
    by_kind: BTreeMap<String, usize>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_arguments_are_refused_or_sent_exactly() {
    let contract = load_contract();
    let tools = catalogue(ToolOptions::default()).tools();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut known_seen: BTreeMap<String, usize> = BTreeMap::new();
    for tool in &tools {
        let name = tool.name.to_string();
        let schema = Value::Object((*tool.input_schema).clone());
        let fields = fields(&schema);
        let props: BTreeSet<String> = schema["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let Some(case) = contract
            .iter()
            .map(|(_, c)| c)
            .find(|c| c.tool == name && c.is_plain_success())
        else {
            failures.push(format!("{name}: no successful contract case to start from"));
            continue;
        };
        let derived = Derived::of(case, &fields);
        let mut rng = Rng::seeded(&name);
        let tally = tallies.entry(name.clone()).or_default();
        let mut attempts = 0;
        let mut run = BTreeSet::new();
        // A session per tool (what one tool stages must not show up in another's apply), with
        // the case's setup made once for the calls that must be refused. A call that must
        // succeed gets a session of its own when the case has a setup (a confirm or rollback
        // acts on its change once).
        let session = Session::plain(ToolOptions::default()).await;
        let base_results = match run_setup(&session, case).await {
            Ok(r) => r,
            Err(d) => {
                failures.push(format!("{name}: setup failed: {}", d.join("; ")));
                continue;
            }
        };
        session.upstream.reset().await;
        mount_catch_all(&session.upstream).await;
        while tally.generated < PER_TOOL && attempts < PER_TOOL * 20 {
            attempts += 1;
            let g = if props.contains("dry_run") && tally.generated > 0 && rng.below(8) == 0 {
                let v = valid(&mut rng, case, &props, &derived, false);
                Some(dry_run_variation(&mut rng, v))
            } else if tally.generated == 0 || rng.below(4) == 0 {
                Some(valid(
                    &mut rng,
                    case,
                    &props,
                    &derived,
                    tally.generated == 0,
                ))
            } else {
                // Mutate either the contract arguments or a fresh valid variation.
                let base = if rng.coin() {
                    valid(&mut rng, case, &props, &derived, false).args
                } else {
                    case.arguments.clone()
                };
                invalid(&mut rng, &base, &fields, &derived)
            };
            let Some(g) = g else { continue };
            // A call that must succeed is made once: the same arguments send the same requests
            // (a tool whose valid calls cannot vary spends its budget on calls to refuse).
            if g.expect.is_some() && !run.insert(g.args.to_string()) {
                continue;
            }
            tally.generated += 1;
            *tally.by_kind.entry(g.kind.clone()).or_default() += 1;
            let problem = match &g.expect {
                None => {
                    let args = placeholders(&g.args, &base_results);
                    let before = session.received().await.len();
                    match session.call_within(&name, &args, LIMIT).await {
                        Ok(r) if is_error(&r) => {
                            let after = session.received().await;
                            if after.len() != before {
                                Some(format!(
                                    "refused only after a request: {}",
                                    support::describe(&after[after.len() - 1])
                                ))
                            } else if let Some(field) = g.names.filter(|f| !text(&r).contains(f)) {
                                Some(format!(
                                    "refused without naming {field}: {}",
                                    short(&text(&r), 200)
                                ))
                            } else {
                                tally.refused += 1;
                                None
                            }
                        }
                        Ok(r) => Some(format!(
                            "accepted ({} requests sent): {}",
                            session.received().await.len() - before,
                            short(&text(&r), 200)
                        )),
                        Err(e) => Some(e),
                    }
                }
                Some(expect) => {
                    let own;
                    let (s, results) = if case.setup.is_empty() {
                        (&session, base_results.clone())
                    } else {
                        own = Session::plain(ToolOptions::default()).await;
                        match run_setup(&own, case).await {
                            Ok(r) => (&own, r),
                            Err(d) => {
                                failures.push(format!("{name}: setup failed: {}", d.join("; ")));
                                continue;
                            }
                        }
                    };
                    let args = placeholders(&g.args, &results);
                    s.upstream.reset().await;
                    mount(&s.upstream, expect).await;
                    let r = s.call_within(&name, &args, LIMIT).await;
                    let mut d = match &r {
                        Ok(r) if is_error(r) => vec![format!("refused: {}", short(&text(r), 300))],
                        Ok(r) if g.dry && structured(r).get("dry_run") != Some(&json!(true)) => {
                            vec![format!(
                                "not answered as a dry run: {}",
                                short(&text(r), 300)
                            )]
                        }
                        Ok(_) => Vec::new(),
                        Err(e) => vec![e.clone()],
                    };
                    let received = s.received().await;
                    if g.dry {
                        d.extend(
                            received
                                .iter()
                                .filter(|q| !is_read(q))
                                .map(|q| format!("a dry run sent a write: {}", describe(q))),
                        );
                    } else {
                        d.extend(requests_diff(&received, expect));
                    }
                    s.settle().await;
                    if d.is_empty() {
                        tally.valid += 1;
                        None
                    } else {
                        Some(d.join("; "))
                    }
                }
            };
            if let Some(p) = problem {
                if known(&name, &g.kind) {
                    tally.known += 1;
                    *known_seen.entry(g.kind.clone()).or_default() += 1;
                    continue;
                }
                tally.failed += 1;
                if failures.len() < 400 {
                    failures.push(format!(
                        "{name} [{}] {}: {p}",
                        g.kind,
                        short(&g.args.to_string(), 240)
                    ));
                }
            }
        }
        // The session must still answer after everything thrown at this tool.
        if session.call(&name, &case.arguments).await.is_err() {
            failures.push(format!("{name}: the session stopped answering"));
            tally.failed += 1;
        }
        session.settle().await;
    }

    let mut rows = Vec::new();
    let (mut passed, mut failed) = (0usize, 0usize);
    for (name, t) in &tallies {
        passed += t.refused + t.valid;
        failed += t.failed;
        if t.generated < 200 {
            failed += 1;
            failures.push(format!("{name}: only {} cases generated", t.generated));
        }
        let kinds: Vec<String> = t.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        rows.push(vec![
            name.clone(),
            t.generated.to_string(),
            t.refused.to_string(),
            t.valid.to_string(),
            t.failed.to_string(),
            t.known.to_string(),
            kinds.join(", "),
        ]);
    }
    println!(
        "\nfuzzed arguments: {} tools, {PER_TOOL} per tool",
        tallies.len()
    );
    print_table(
        &[
            "tool",
            "generated",
            "refused",
            "valid",
            "failed",
            "known defect",
            "kinds",
        ],
        &rows,
    );
    for (kind, n) in &known_seen {
        let why = KNOWN
            .iter()
            .find(|(_, k, _)| k == kind)
            .map_or("", |(_, _, w)| *w);
        println!("KNOWN DEFECT ({n} cases, not counted as failures): [{kind}] {why}");
    }
    for f in &failures {
        println!("FAILED {f}");
    }
    println!("{passed} passed, {failed} failed");
    assert_eq!(failed, 0, "{failed} fuzz cases failed (see above)");
}
