//! `cargo xtask inventory --core <git dir> --tag <TAG>...`: every MVC API action of
//! opnsense/core at a tag, read from the tag's tree (no work tree needed), written to
//! `xtask/inventory/<TAG>.json`.
//!
//! What the router dispatches (`src/opnsense/mvc/app/library/OPNsense/Mvc/Router.php` and
//! `Dispatcher.php`, identical at 26.1.11 and 26.7.2), and so what is listed:
//! - `/api/<module>/<controller>/<action>[/<param>...]`: each segment goes through
//!   `str_replace('_', '', ucwords($s, '_'))`. The module is then matched against the
//!   directory name exactly or, failing that, case-insensitively (`ids` -> `IDS`); the
//!   controller must name the file exactly (`d_nat` -> `DNatController.php`, `dnat` does not);
//!   the action is `lcfirst(..) . "Action"`, found by PHP's case-insensitive method lookup.
//!   Listed forms: module lower-case, controller snake_case, action as written in PHP.
//! - Controllers: `controllers/OPNsense/<Module>/Api/<Name>Controller.php` whose class is
//!   instantiable (abstract ones are listed under `not_routable`).
//! - Actions: public `*Action` methods of the class and of every class it inherits from
//!   (`extends` resolved through `namespace`/`use` within core, most derived definition wins).
//!   Parameters: the Dispatcher refuses fewer path segments than required (non-default)
//!   parameters.
//! - A class with `__call` accepts any action name (`catch_all`).
//! - Method: `POST`/`GET` when the action's body, or a method it calls on `$this`, `parent`,
//!   `self` or `static` (up to three calls deep), decides its answer by `->isPost()`/`->isGet()`
//!   (see [`guards_result`]: a check that only gates a side branch, as in
//!   `core/firmware/status`, does not count); else `ANY`. `method_evidence` says which. A
//!   heuristic over source text, not a proof: `ANY` means "the source shows no restriction".

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Map, Value, json};

/// Bumped whenever the output's shape or a rule that decides its content changes.
pub const GENERATOR_VERSION: u32 = 1;

const USAGE: &str =
    "usage: cargo xtask inventory --core <opnsense/core git dir> --tag <TAG> [--tag <TAG>...]";
const CONTROLLERS: &str = "src/opnsense/mvc/app/controllers/";
const LIBRARY: &str = "src/opnsense/mvc/app/library/";
/// How many calls deep the method check follows delegation (`setAction` -> `setBase`).
const MAX_DELEGATION: usize = 3;

/// Runs the task: parses `args` (everything after `inventory`) and writes one file per tag.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let mut core = None;
    let mut tags = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value; {USAGE}"))
        };
        match arg.as_str() {
            "--core" => core = Some(value()?),
            "--tag" => tags.push(value()?),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    let core = core.ok_or_else(|| format!("--core is required; {USAGE}"))?;
    if tags.is_empty() {
        return Err(format!("at least one --tag is required; {USAGE}"));
    }
    let out_dir = root.join("xtask").join("inventory");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    for tag in &tags {
        let inventory = generate(Path::new(&core), tag)?;
        let path = out_dir.join(format!("{tag}.json"));
        std::fs::write(&path, inventory.render())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!(
            "{tag} ({}): {} actions in {} controllers -> {}",
            inventory.commit,
            inventory.actions.len(),
            inventory.controllers,
            path.display()
        );
    }
    Ok(())
}

/// The inventory of one tag.
#[derive(Debug)]
struct Inventory {
    tag: String,
    commit: String,
    controllers: usize,
    actions: Vec<Action>,
    catch_all: Vec<Value>,
    not_routable: Vec<Value>,
    unresolved_bases: Vec<Value>,
}

/// One routable action.
#[derive(Debug)]
struct Action {
    module: String,
    controller: String,
    /// The action name as written in PHP, without `Action`.
    name: String,
    method: &'static str,
    evidence: String,
    params: Vec<Param>,
    class: String,
    defined_in: String,
    source: String,
}

/// A PHP parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    name: String,
    optional: bool,
}

/// A parsed PHP class.
#[derive(Debug, Clone)]
struct PhpClass {
    fqcn: String,
    short: String,
    file: String,
    is_abstract: bool,
    parent: Option<String>,
    methods: Vec<PhpMethod>,
}

/// A parsed PHP method.
#[derive(Debug, Clone)]
struct PhpMethod {
    name: String,
    line: usize,
    public: bool,
    params: Vec<Param>,
    /// An `isPost()` check decides the answer (see [`guards_result`]).
    checks_post: bool,
    /// An `isGet()` check decides the answer.
    checks_get: bool,
    /// `isPost()`/`isGet()` appear, but only gate part of the body.
    side_checks: bool,
    calls: Vec<Call>,
}

/// A call the method check follows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    /// `$this->x(` or `static::x(`: resolved from the routed class.
    Late(String),
    /// `parent::x(`: resolved from the defining class's parent.
    Parent(String),
    /// `self::x(`: resolved from the defining class.
    Own(String),
}

fn validate_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && !tag.starts_with(['-', '.'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!("{tag:?} is not a plain tag name"))
    }
}

fn git(core: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(core)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("git {}: not UTF-8: {e}", args.join(" ")))
}

/// The contents of `paths` at `commit`, in order, through one `git cat-file --batch`.
fn read_blobs(core: &Path, commit: &str, paths: &[String]) -> Result<Vec<String>, String> {
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(core)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run git cat-file: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("git cat-file: no stdin")?;
    let mut stdout = child.stdout.take().ok_or("git cat-file: no stdout")?;
    let mut request = String::new();
    for path in paths {
        request.push_str(commit);
        request.push(':');
        request.push_str(path);
        request.push('\n');
    }
    let mut raw = Vec::new();
    // Write from a second thread so neither pipe can fill up while the other waits.
    let written = std::thread::scope(|s| {
        let writer = s.spawn(move || stdin.write_all(request.as_bytes()));
        let read = stdout.read_to_end(&mut raw);
        (writer.join(), read)
    });
    let status = child.wait().map_err(|e| format!("git cat-file: {e}"))?;
    match written {
        (Ok(Ok(())), Ok(_)) if status.success() => {}
        _ => return Err(format!("git cat-file --batch failed ({status})")),
    }
    let mut blobs = Vec::with_capacity(paths.len());
    let mut rest = raw.as_slice();
    for path in paths {
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("git cat-file: truncated output")?;
        let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
        let size: usize = match header.split(' ').collect::<Vec<_>>().as_slice() {
            [_, "blob", size] => size
                .parse()
                .map_err(|_| format!("git cat-file: bad header {header:?}"))?,
            _ => return Err(format!("{path} at {commit}: {header}")),
        };
        let body = rest
            .get(nl + 1..nl + 1 + size)
            .ok_or("git cat-file: truncated blob")?;
        blobs.push(String::from_utf8_lossy(body).into_owned());
        rest = rest.get(nl + 2 + size..).unwrap_or_default();
    }
    Ok(blobs)
}

/// Reads the tag's controllers and library classes and lists its actions.
fn generate(core: &Path, tag: &str) -> Result<Inventory, String> {
    validate_tag(tag)?;
    let commit = git(
        core,
        &[
            "rev-parse",
            "--verify",
            &format!("refs/tags/{tag}^{{commit}}"),
        ],
    )?
    .trim()
    .to_owned();
    let files: Vec<String> = git(
        core,
        &[
            "ls-tree",
            "-r",
            "--name-only",
            &commit,
            "--",
            CONTROLLERS,
            LIBRARY,
        ],
    )?
    .lines()
    .filter(|p| {
        Path::new(p)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("php"))
    })
    .map(str::to_owned)
    .collect();
    let blobs = read_blobs(core, &commit, &files)?;
    let mut classes: HashMap<String, PhpClass> = HashMap::new();
    for (file, src) in files.iter().zip(&blobs) {
        for class in parse_php(file, src) {
            classes.insert(class.fqcn.to_ascii_lowercase(), class);
        }
    }
    let mut inv = Inventory {
        tag: tag.to_owned(),
        commit,
        controllers: 0,
        actions: Vec::new(),
        catch_all: Vec::new(),
        not_routable: Vec::new(),
        unresolved_bases: Vec::new(),
    };
    let mut unresolved = BTreeMap::new();
    for file in &files {
        let Some((module, name)) = routable_file(file) else {
            continue;
        };
        let fqcn = format!("OPNsense\\{module}\\Api\\{name}Controller");
        let Some(class) = classes.get(&fqcn.to_ascii_lowercase()) else {
            inv.not_routable
                .push(json!({"file": file, "reason": format!("no class {fqcn} in the file")}));
            continue;
        };
        if class.is_abstract {
            inv.not_routable
                .push(json!({"file": file, "reason": "abstract class (a base for others)"}));
            continue;
        }
        let controller = snake_case(name);
        if router_camel(&controller) != name {
            return Err(format!(
                "{file}: no URL segment routes to {name} ({controller} does not)"
            ));
        }
        let module_seg = module.to_ascii_lowercase();
        let (chain, missing) = chain(&classes, class);
        if let Some(base) = missing {
            unresolved.insert(base, fqcn.clone());
        }
        inv.controllers += 1;
        let before = inv.actions.len();
        list_actions(&chain, &module_seg, &controller, &mut inv.actions);
        if let Some((ci, call)) = find_method(&chain, 0, "__call") {
            inv.catch_all.push(json!({
                "controller": format!("{module_seg}/{controller}"),
                "class": class.fqcn,
                "explicit_actions": inv.actions.len() - before,
                "source": format!("{}:{}", chain[ci].file, call.line),
            }));
        }
    }
    inv.unresolved_bases = unresolved
        .into_iter()
        .map(|(base, from)| json!({"base": base, "first_seen_from": from}))
        .collect();
    inv.actions.sort_by(|a, b| {
        let key = |x: &Action| {
            (
                x.module.clone(),
                x.controller.clone(),
                x.name.to_ascii_lowercase(),
                x.name.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(inv)
}

/// `controllers/OPNsense/<Module>/Api/<Name>Controller.php` -> (Module, Name).
fn routable_file(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(CONTROLLERS)?.strip_prefix("OPNsense/")?;
    let (module, rest) = rest.split_once('/')?;
    let name = rest.strip_prefix("Api/")?.strip_suffix("Controller.php")?;
    (!name.is_empty() && !name.contains('/') && module != "Base").then_some((module, name))
}

/// `DNat` -> `d_nat`, `Leases4` -> `leases4`: an `_` before each upper-case letter but the first.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The router's `str_replace('_', '', ucwords($segment, '_'))`.
fn router_camel(segment: &str) -> String {
    segment
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The class and its ancestors, most derived first, and the first base not found in core.
fn chain<'a>(
    classes: &'a HashMap<String, PhpClass>,
    class: &'a PhpClass,
) -> (Vec<&'a PhpClass>, Option<String>) {
    let mut out = vec![class];
    let mut seen = HashSet::from([class.fqcn.to_ascii_lowercase()]);
    let mut current = class;
    while let Some(parent) = &current.parent {
        let key = parent.to_ascii_lowercase();
        if !seen.insert(key.clone()) {
            break;
        }
        match classes.get(&key) {
            Some(p) => {
                out.push(p);
                current = p;
            }
            None => return (out, Some(parent.clone())),
        }
    }
    (out, None)
}

/// The first definition of `name` (case-insensitive, as PHP) in `chain[from..]`.
fn find_method<'a>(
    chain: &[&'a PhpClass],
    from: usize,
    name: &str,
) -> Option<(usize, &'a PhpMethod)> {
    chain.iter().enumerate().skip(from).find_map(|(i, c)| {
        c.methods
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
            .map(|m| (i, m))
    })
}

fn list_actions(chain: &[&PhpClass], module: &str, controller: &str, out: &mut Vec<Action>) {
    let mut seen = HashSet::new();
    for (ci, class) in chain.iter().enumerate() {
        for m in &class.methods {
            let lower = m.name.to_ascii_lowercase();
            if lower.len() <= "action".len() || !lower.ends_with("action") || !seen.insert(lower) {
                continue;
            }
            if !m.public {
                continue;
            }
            let (method, evidence) = requirement(chain, ci, m);
            out.push(Action {
                module: module.to_owned(),
                controller: controller.to_owned(),
                name: m.name[..m.name.len() - "action".len()].to_owned(),
                method,
                evidence,
                params: m.params.clone(),
                class: chain[0].fqcn.clone(),
                defined_in: class.fqcn.clone(),
                source: format!("{}:{}", class.file, m.line),
            });
        }
    }
}

fn checks(post: bool, get: bool) -> &'static str {
    match (post, get) {
        (true, true) => "both isPost() and isGet()",
        (true, false) => "isPost()",
        (false, true) => "isGet()",
        (false, false) => "nothing",
    }
}

fn verdict(post: bool, get: bool) -> &'static str {
    match (post, get) {
        (true, false) => "POST",
        (false, true) => "GET",
        _ => "ANY",
    }
}

/// The HTTP method an action requires, and why (see the module doc).
fn requirement(chain: &[&PhpClass], ci: usize, m: &PhpMethod) -> (&'static str, String) {
    if m.checks_post || m.checks_get {
        let what = checks(m.checks_post, m.checks_get);
        return (
            verdict(m.checks_post, m.checks_get),
            format!("the body checks {what}"),
        );
    }
    let mut found: Vec<(String, bool, bool)> = Vec::new();
    let mut visited = HashSet::from([(ci, m.name.to_ascii_lowercase())]);
    let mut queue = VecDeque::from([(ci, m, 0usize)]);
    while let Some((at, method, depth)) = queue.pop_front() {
        for call in &method.calls {
            let target = match call {
                Call::Late(name) => find_method(chain, 0, name),
                Call::Parent(name) => find_method(chain, at + 1, name),
                Call::Own(name) => find_method(chain, at, name),
            };
            let Some((ti, t)) = target else { continue };
            if !visited.insert((ti, t.name.to_ascii_lowercase())) {
                continue;
            }
            if t.checks_post || t.checks_get {
                let label = format!("{}::{}", chain[ti].short, t.name);
                found.push((label, t.checks_post, t.checks_get));
            } else if depth + 1 < MAX_DELEGATION {
                queue.push_back((ti, t, depth + 1));
            }
        }
    }
    if found.is_empty() {
        let why = if m.side_checks {
            "isPost()/isGet() in the body only gate part of it (every method gets an answer)"
        } else {
            "no isPost()/isGet() check in the body or the methods it calls"
        };
        return ("ANY", why.to_owned());
    }
    let post = found.iter().any(|f| f.1);
    let get = found.iter().any(|f| f.2);
    let parts: Vec<String> = found
        .iter()
        .map(|(label, p, g)| format!("{label}, which checks {}", checks(*p, *g)))
        .collect();
    (
        verdict(post, get),
        format!("delegates to {}", parts.join("; ")),
    )
}

impl Inventory {
    /// Deterministic JSON: one top-level key per line and one array element per line.
    fn render(&self) -> String {
        let actions: Vec<Value> = self
            .actions
            .iter()
            .map(|a| {
                json!({
                    "path": format!("{}/{}/{}", a.module, a.controller, a.name),
                    "method": a.method,
                    "params": a.params.iter().map(|p| json!({"name": p.name, "optional": p.optional})).collect::<Vec<_>>(),
                    "method_evidence": a.evidence,
                    "class": a.class,
                    "defined_in": a.defined_in,
                    "source": a.source,
                })
            })
            .collect();
        let mut top = Map::new();
        top.insert("source".into(), "opnsense/core".into());
        top.insert("tag".into(), self.tag.clone().into());
        top.insert("commit".into(), self.commit.clone().into());
        top.insert(
            "generator".into(),
            json!({"name": "cargo xtask inventory", "version": GENERATOR_VERSION}),
        );
        top.insert(
            "routing".into(),
            "path = <module lower-case>/<controller snake_case>/<action as in PHP>; the router \
             matches the module case-insensitively, the controller by its exact CamelCase after \
             ucwords+strip '_', the action case-insensitively ('_' stripped)"
                .into(),
        );
        top.insert("controllers".into(), self.controllers.into());
        top.insert("action_count".into(), self.actions.len().into());
        top.insert("catch_all".into(), self.catch_all.clone().into());
        top.insert("not_routable".into(), self.not_routable.clone().into());
        top.insert(
            "unresolved_bases".into(),
            self.unresolved_bases.clone().into(),
        );
        top.insert("actions".into(), actions.into());
        render_top(&top)
    }
}

fn render_top(top: &Map<String, Value>) -> String {
    let mut out = String::from("{\n");
    for (i, (key, value)) in top.iter().enumerate() {
        out.push_str("  ");
        out.push_str(&Value::from(key.as_str()).to_string());
        out.push_str(": ");
        match value {
            Value::Array(items) if !items.is_empty() => {
                out.push_str("[\n");
                for (j, item) in items.iter().enumerate() {
                    out.push_str("    ");
                    out.push_str(&item.to_string());
                    out.push_str(if j + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str("  ]");
            }
            other => out.push_str(&other.to_string()),
        }
        out.push_str(if i + 1 < top.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    out
}

// ---------------------------------------------------------------------------------------------
// PHP: just enough lexing and parsing for namespaces, `use`, classes and their methods.

#[derive(Debug, Clone, PartialEq, Eq)]
enum P {
    /// A name, keyword or number; qualified names keep their `\`.
    Word(String),
    /// `$name` (without the `$`).
    Var(String),
    /// Any string literal or heredoc.
    Str,
    /// `->`, `::` or `...`.
    Op(&'static str),
    /// Any other character.
    Char(u8),
}

#[derive(Debug, Clone)]
struct PTok {
    kind: P,
    start: usize,
}

fn is_php_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'\\' || b >= 0x80
}

fn php_lex(src: &str) -> Vec<PTok> {
    let s = src.as_bytes();
    let n = s.len();
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut toks = Vec::new();
    let mut i = 0;
    while i < n {
        let b = s[i];
        let start = i;
        let mut push = |kind| toks.push(PTok { kind, start });
        if b.is_ascii_whitespace() {
            i += 1;
        } else if (b == b'#' && at(i + 1) != b'[') || (b == b'/' && at(i + 1) == b'/') {
            while i < n && s[i] != b'\n' {
                i += 1;
            }
        } else if b == b'/' && at(i + 1) == b'*' {
            i += 2;
            while i < n && !(s[i] == b'*' && at(i + 1) == b'/') {
                i += 1;
            }
            i += 2;
        } else if matches!(b, b'\'' | b'"' | b'`') {
            i += 1;
            while i < n && s[i] != b {
                i += if s[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            push(P::Str);
        } else if b == b'<' && at(i + 1) == b'<' && at(i + 2) == b'<' {
            i = heredoc_end(s, i + 3);
            push(P::Str);
        } else if b == b'$' && is_php_word_byte(at(i + 1)) && at(i + 1) != b'\\' {
            i += 1;
            while i < n && is_php_word_byte(s[i]) && s[i] != b'\\' {
                i += 1;
            }
            push(P::Var(src[start + 1..i].to_owned()));
        } else if is_php_word_byte(b) {
            while i < n && is_php_word_byte(s[i]) {
                i += 1;
            }
            push(P::Word(src[start..i].to_owned()));
        } else if b == b'-' && at(i + 1) == b'>' {
            i += 2;
            push(P::Op("->"));
        } else if b == b':' && at(i + 1) == b':' {
            i += 2;
            push(P::Op("::"));
        } else if b == b'.' && at(i + 1) == b'.' && at(i + 2) == b'.' {
            i += 3;
            push(P::Op("..."));
        } else {
            i += 1;
            push(P::Char(b));
        }
    }
    toks
}

/// From just after `<<<`: the offset after the closing identifier of a heredoc/nowdoc.
fn heredoc_end(s: &[u8], mut i: usize) -> usize {
    while matches!(s.get(i), Some(b' ' | b'\t' | b'\'' | b'"')) {
        i += 1;
    }
    let id_start = i;
    while s
        .get(i)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        i += 1;
    }
    let id = &s[id_start..i];
    if id.is_empty() {
        return i;
    }
    // The closing identifier starts a line (after optional indentation) and is not followed by
    // an identifier character.
    while i < s.len() {
        if s[i] == b'\n' {
            let mut j = i + 1;
            while matches!(s.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            let closes = s.get(j..j + id.len()) == Some(id)
                && !s
                    .get(j + id.len())
                    .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_');
            if closes {
                return j + id.len();
            }
        }
        i += 1;
    }
    s.len()
}

fn word_is(tok: Option<&PTok>, word: &str) -> bool {
    matches!(tok, Some(PTok { kind: P::Word(w), .. }) if w.eq_ignore_ascii_case(word))
}

fn char_is(tok: Option<&PTok>, c: u8) -> bool {
    matches!(tok, Some(PTok { kind: P::Char(x), .. }) if *x == c)
}

fn word_at(toks: &[PTok], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some(PTok {
            kind: P::Word(w), ..
        }) => Some(w),
        _ => None,
    }
}

/// The index of the bracket closing the one at `open`, or the end.
fn matching(toks: &[PTok], open: usize) -> usize {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            P::Char(b'(' | b'[' | b'{') => depth += 1,
            P::Char(b')' | b']' | b'}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// Name resolution context of a file.
struct Scope {
    namespace: String,
    uses: HashMap<String, String>,
}

impl Scope {
    /// PHP's rules for a class name: fully qualified, through a `use` alias, or relative to the
    /// namespace.
    fn resolve(&self, name: &str) -> String {
        if let Some(full) = name.strip_prefix('\\') {
            return full.to_owned();
        }
        let (first, rest) = name.split_once('\\').map_or((name, ""), |(f, r)| (f, r));
        if let Some(full) = self.uses.get(&first.to_ascii_lowercase()) {
            return if rest.is_empty() {
                full.clone()
            } else {
                format!("{full}\\{rest}")
            };
        }
        if self.namespace.is_empty() {
            name.to_owned()
        } else {
            format!("{}\\{name}", self.namespace)
        }
    }
}

/// The classes of one PHP file.
fn parse_php(file: &str, src: &str) -> Vec<PhpClass> {
    let toks = php_lex(src);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(src.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset);
    let mut scope = Scope {
        namespace: String::new(),
        uses: HashMap::new(),
    };
    let mut classes = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let tok = &toks[i];
        match &tok.kind {
            P::Char(b'{') => depth += 1,
            P::Char(b'}') => depth = depth.saturating_sub(1),
            P::Word(w) if depth == 0 && w.eq_ignore_ascii_case("namespace") => {
                if let Some(name) = word_at(&toks, i + 1) {
                    name.trim_start_matches('\\')
                        .clone_into(&mut scope.namespace);
                }
            }
            P::Word(w) if depth == 0 && w.eq_ignore_ascii_case("use") => {
                i = parse_use(&toks, i + 1, &mut scope.uses);
                continue;
            }
            P::Word(w)
                if depth == 0
                    && w.eq_ignore_ascii_case("class")
                    && !matches!(
                        toks.get(i.wrapping_sub(1)).map(|t| &t.kind),
                        Some(P::Op("::"))
                    )
                    && !word_is(toks.get(i.wrapping_sub(1)), "new") =>
            {
                if let Some((class, next)) = parse_class(&toks, i, &scope, file, &line_of) {
                    classes.push(class);
                    i = next;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    classes
}

/// `use A\B[ as C][, ...];` and `use A\{B, C as D};` from just after `use`; returns the index
/// after the `;`.
fn parse_use(toks: &[PTok], mut i: usize, uses: &mut HashMap<String, String>) -> usize {
    if word_is(toks.get(i), "function") || word_is(toks.get(i), "const") {
        while i < toks.len() && !char_is(toks.get(i), b';') {
            i += 1;
        }
        return i + 1;
    }
    let mut prefix = String::new();
    while i < toks.len() && !char_is(toks.get(i), b';') {
        if char_is(toks.get(i), b'{') {
            word_at(toks, i - 1)
                .unwrap_or_default()
                .clone_into(&mut prefix);
        } else if let Some(name) = word_at(toks, i) {
            if name.eq_ignore_ascii_case("as") {
                i += 1;
                continue;
            }
            let next_is_group = char_is(toks.get(i + 1), b'{');
            if !next_is_group {
                let full = format!("{prefix}{name}")
                    .trim_start_matches('\\')
                    .to_owned();
                let alias = if word_is(toks.get(i + 1), "as") {
                    word_at(toks, i + 2).unwrap_or(name).to_owned()
                } else {
                    full.rsplit('\\').next().unwrap_or(&full).to_owned()
                };
                uses.insert(alias.to_ascii_lowercase(), full);
                if word_is(toks.get(i + 1), "as") {
                    i += 2;
                }
            }
        } else if char_is(toks.get(i), b'}') {
            prefix.clear();
        }
        i += 1;
    }
    i + 1
}

/// The class whose `class` keyword is at `at`, and the index after its closing `}`.
fn parse_class(
    toks: &[PTok],
    at: usize,
    scope: &Scope,
    file: &str,
    line_of: &dyn Fn(usize) -> usize,
) -> Option<(PhpClass, usize)> {
    let short = word_at(toks, at + 1)?.to_owned();
    let mut is_abstract = false;
    let mut k = at;
    while k > 0 {
        k -= 1;
        match word_at(toks, k) {
            Some(w) if w.eq_ignore_ascii_case("abstract") => is_abstract = true,
            Some(w) if w.eq_ignore_ascii_case("final") || w.eq_ignore_ascii_case("readonly") => {}
            _ => break,
        }
    }
    let mut parent = None;
    let mut k = at + 2;
    while k < toks.len() && !char_is(toks.get(k), b'{') {
        if word_is(toks.get(k), "extends") {
            parent = word_at(toks, k + 1).map(|p| scope.resolve(p));
        }
        k += 1;
    }
    let close = matching(toks, k);
    let mut methods = Vec::new();
    let mut depth = 0usize;
    let mut j = k + 1;
    while j < close {
        match &toks[j].kind {
            P::Char(b'{') => depth += 1,
            P::Char(b'}') => depth = depth.saturating_sub(1),
            P::Word(w) if depth == 0 && w.eq_ignore_ascii_case("function") => {
                if let Some((m, next)) = parse_method(toks, j, line_of) {
                    methods.push(m);
                    j = next;
                    continue;
                }
            }
            _ => {}
        }
        j += 1;
    }
    let fqcn = if scope.namespace.is_empty() {
        short.clone()
    } else {
        format!("{}\\{short}", scope.namespace)
    };
    let class = PhpClass {
        fqcn,
        short,
        file: file.to_owned(),
        is_abstract,
        parent,
        methods,
    };
    Some((class, close + 1))
}

/// The method whose `function` keyword is at `at`, and the index after its body (or `;`).
fn parse_method(
    toks: &[PTok],
    at: usize,
    line_of: &dyn Fn(usize) -> usize,
) -> Option<(PhpMethod, usize)> {
    let mut public = true;
    let mut k = at;
    while k > 0 {
        k -= 1;
        match word_at(toks, k).map(str::to_ascii_lowercase).as_deref() {
            Some("private" | "protected") => public = false,
            Some("public" | "static" | "abstract" | "final") => {}
            _ => break,
        }
    }
    let mut k = at + 1;
    if char_is(toks.get(k), b'&') {
        k += 1;
    }
    let name = word_at(toks, k)?.to_owned();
    let open = k + 1;
    if !char_is(toks.get(open), b'(') {
        return None;
    }
    let close = matching(toks, open);
    let params = parse_params(&toks[open + 1..close.min(toks.len())]);
    // Skip a return type up to the body or the `;` of an abstract method.
    let mut b = close + 1;
    while b < toks.len() && !char_is(toks.get(b), b'{') && !char_is(toks.get(b), b';') {
        b += 1;
    }
    let (body, next) = if char_is(toks.get(b), b'{') {
        let end = matching(toks, b);
        (&toks[b + 1..end.min(toks.len())], end + 1)
    } else {
        (&toks[0..0], b + 1)
    };
    let mut m = PhpMethod {
        name,
        line: line_of(toks[at].start),
        public,
        params,
        checks_post: false,
        checks_get: false,
        side_checks: false,
        calls: Vec::new(),
    };
    for j in 0..body.len() {
        let (
            Some(PTok {
                kind: P::Op(op), ..
            }),
            Some(callee),
            true,
        ) = (
            body.get(j),
            word_at(body, j + 1),
            char_is(body.get(j + 2), b'('),
        )
        else {
            continue;
        };
        let prev = body.get(j.wrapping_sub(1)).map(|t| &t.kind);
        match (*op, prev) {
            ("->", _)
                if callee.eq_ignore_ascii_case("isPost")
                    || callee.eq_ignore_ascii_case("isGet") =>
            {
                if !guards_result(body, j) {
                    m.side_checks = true;
                } else if callee.eq_ignore_ascii_case("isPost") {
                    m.checks_post = true;
                } else {
                    m.checks_get = true;
                }
            }
            ("->", Some(P::Var(v))) if v == "this" => m.calls.push(Call::Late(callee.to_owned())),
            ("::", Some(P::Word(w))) if w.eq_ignore_ascii_case("parent") => {
                m.calls.push(Call::Parent(callee.to_owned()));
            }
            ("::", Some(P::Word(w))) if w.eq_ignore_ascii_case("self") => {
                m.calls.push(Call::Own(callee.to_owned()));
            }
            ("::", Some(P::Word(w))) if w.eq_ignore_ascii_case("static") => {
                m.calls.push(Call::Late(callee.to_owned()));
            }
            _ => {}
        }
    }
    Some((m, next))
}

/// Whether the `isPost()`/`isGet()` call whose `->` is at `body[at]` decides the answer. It must
/// be in an `if`/`elseif` condition, and then:
/// - negated (`if (!$this->request->isPost())`): its block returns or throws;
/// - plain: its block returns or throws, or has an `else`, or nothing but one `return` follows
///   the `if` (`$result = failed; if (isPost) { ... } return $result;`).
///
/// Otherwise it only gates a side branch: `core/firmware/status` runs a probe first on POST and
/// then answers every method.
fn guards_result(body: &[PTok], at: usize) -> bool {
    let is_char = |k: usize, c: u8| char_is(body.get(k), c);
    // Start of the `$this->request->isPost` chain, and whether a `!` precedes it.
    let mut start = at;
    while start >= 2
        && matches!(body[start - 1].kind, P::Word(_) | P::Var(_))
        && matches!(body[start - 2].kind, P::Op("->"))
    {
        start -= 2;
    }
    start = start.saturating_sub(1);
    let negated = start > 0 && is_char(start - 1, b'!');
    // The enclosing `if (` / `elseif (`, within this statement.
    let mut depth = 0usize;
    let mut k = start;
    let open = loop {
        if k == 0 {
            return false;
        }
        k -= 1;
        match body[k].kind {
            P::Char(b')') => depth += 1,
            P::Char(b'(') if depth > 0 => depth -= 1,
            P::Char(b'(')
                if word_is(body.get(k.wrapping_sub(1)), "if")
                    || word_is(body.get(k.wrapping_sub(1)), "elseif") =>
            {
                break k;
            }
            P::Char(b';' | b'{' | b'}') => return false,
            _ => {}
        }
    };
    // One branch (block or single statement) starting at `from`: (its tokens, index after it).
    let branch = |from: usize| -> (&[PTok], usize) {
        if is_char(from, b'{') {
            let end = matching(body, from).min(body.len());
            (&body[(from + 1).min(end)..end], end + 1)
        } else {
            let end = (from..body.len())
                .find(|&e| is_char(e, b';'))
                .unwrap_or(body.len());
            (&body[from.min(end)..end], end + 1)
        }
    };
    let (block, mut next) = branch(matching(body, open) + 1);
    let exits = block.iter().any(|t| {
        matches!(&t.kind, P::Word(w) if w.eq_ignore_ascii_case("return") || w.eq_ignore_ascii_case("throw"))
    });
    if exits {
        return true;
    }
    if negated {
        return false;
    }
    // Skip `elseif (..) {..}` / `else {..}` branches.
    let mut has_else = false;
    loop {
        if word_is(body.get(next), "elseif") {
            next = branch(matching(body, next + 1) + 1).1;
        } else if word_is(body.get(next), "else") {
            has_else = true;
            next = branch(next + 1).1;
        } else {
            break;
        }
    }
    let rest = body.get(next..).unwrap_or_default();
    let only_a_return = word_is(rest.first(), "return")
        && rest.iter().position(|t| t.kind == P::Char(b';')) == Some(rest.len() - 1);
    has_else || rest.is_empty() || only_a_return
}

/// Parameters between the parentheses: name, and optional when defaulted or variadic.
fn parse_params(toks: &[PTok]) -> Vec<Param> {
    let mut params = Vec::new();
    let mut depth = 0usize;
    let mut current: Vec<&PTok> = Vec::new();
    let mut flush = |current: &mut Vec<&PTok>| {
        let name = current.iter().find_map(|t| match &t.kind {
            P::Var(v) => Some(v.clone()),
            _ => None,
        });
        if let Some(name) = name {
            let optional = current
                .iter()
                .any(|t| matches!(t.kind, P::Char(b'=') | P::Op("...")));
            params.push(Param { name, optional });
        }
        current.clear();
    };
    for t in toks {
        match t.kind {
            P::Char(b'(' | b'[' | b'{') => depth += 1,
            P::Char(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            P::Char(b',') if depth == 0 => {
                flush(&mut current);
                continue;
            }
            _ => {}
        }
        current.push(t);
    }
    flush(&mut current);
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints;
    use opnsense_api::Request;
    use opnsense_api::api::services::{
        ServiceAction, ServiceModule, action_request, status_request,
    };
    use std::path::PathBuf;

    /// SDK paths that exist only at some of the inventoried tags. Each must exist exactly at the
    /// tags listed, and the SDK must refuse it elsewhere (it does, by firmware version).
    const VERSION_GATED: &[(&str, &[&str], &str)] = &[
        (
            "firewall/filter/savepoint",
            &["26.1.11"],
            "removed in 26.7 (core 17b84612eb \"Remove safepoint actions\"); \
             FilterHandler::savepoint refuses it when !has_filter_rollback()",
        ),
        (
            "firewall/filter/cancelRollback",
            &["26.1.11"],
            "removed in 26.7 with the savepoints; FilterHandler::cancel_rollback refuses it there",
        ),
        (
            "firewall/filter/revert",
            &["26.1.11"],
            "removed in 26.7 with the savepoints; FilterHandler::revert refuses it there",
        ),
    ];

    /// Literals in SDK product code that name no OPNsense action and are never sent. Each must
    /// be absent at every tag (else the entry is stale).
    const NEVER_SENT: &[(&str, &str)] = &[];

    /// The inventories the SDK must match.
    const REQUIRED_TAGS: &[&str] = &["26.1.11", "26.7.2"];

    /// What `Resource`'s request builders send for each field (`Resource::search_request`,
    /// `get_request`, ...): the method and how many segments they append.
    const RESOURCE_FIELDS: &[(&str, &str, usize)] = &[
        ("search", "POST", 0),
        ("get", "GET", 1),
        ("add", "POST", 0),
        ("set", "POST", 1),
        ("del", "POST", 1),
        ("toggle", "POST", 1),
        // `Apply { path: ... }`: the grid's apply/reconfigure.
        ("path", "POST", 0),
    ];

    fn root() -> PathBuf {
        crate::root()
    }

    /// One endpoint the SDK calls.
    #[derive(Debug)]
    struct SdkCall {
        path: String,
        /// `GET`/`POST` when knowable from the code around the literal.
        method: Option<&'static str>,
        /// Path segments after the action the SDK always sends, when knowable.
        sent: Option<usize>,
        origin: String,
    }

    /// One action of an inventory, keyed the way the router matches it.
    #[derive(Debug)]
    struct Known {
        path: String,
        module: String,
        class_short: String,
        action: String,
        method: String,
        required: usize,
    }

    #[derive(Debug)]
    struct Loaded {
        tag: String,
        actions: Vec<Known>,
        /// Controllers (module, class) routing any action name to `__call`, with no action of
        /// their own (a `__call` next to explicit actions only serves special names).
        catch_all: Vec<(String, String)>,
    }

    fn class_short(fqcn: &str) -> String {
        let short = fqcn.rsplit('\\').next().unwrap_or(fqcn);
        short.strip_suffix("Controller").unwrap_or(short).to_owned()
    }

    fn load_inventories() -> Vec<Loaded> {
        let dir = root().join("xtask").join("inventory");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let loaded: Vec<Loaded> = files.iter().map(|f| load(f)).collect();
        for tag in REQUIRED_TAGS {
            assert!(
                loaded.iter().any(|l| l.tag == *tag),
                "xtask/inventory/{tag}.json is missing: run cargo xtask inventory --core <dir> --tag {tag}"
            );
        }
        loaded
    }

    fn load(file: &Path) -> Loaded {
        let text = std::fs::read_to_string(file).expect("read inventory");
        let v: Value = serde_json::from_str(&text).expect("inventory is JSON");
        let tag = v["tag"].as_str().expect("tag").to_owned();
        assert_eq!(
            file.file_stem().and_then(|s| s.to_str()),
            Some(tag.as_str()),
            "{}: file name and tag differ",
            file.display()
        );
        assert_eq!(
            v["generator"]["version"].as_u64(),
            Some(u64::from(GENERATOR_VERSION)),
            "{}: made by another generator version; regenerate it",
            file.display()
        );
        let actions: Vec<Known> = v["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| {
                let path = a["path"].as_str().expect("path").to_owned();
                let segs: Vec<&str> = path.split('/').collect();
                let params = a["params"].as_array().expect("params");
                Known {
                    module: segs[0].to_owned(),
                    class_short: class_short(a["class"].as_str().expect("class")),
                    action: segs[2].to_owned(),
                    method: a["method"].as_str().expect("method").to_owned(),
                    required: params
                        .iter()
                        .filter(|p| p["optional"] == Value::Bool(false))
                        .count(),
                    path,
                }
            })
            .collect();
        assert_eq!(v["action_count"].as_u64(), Some(actions.len() as u64));
        let catch_all = v["catch_all"]
            .as_array()
            .expect("catch_all")
            .iter()
            .filter(|c| c["explicit_actions"].as_u64() == Some(0))
            .map(|c| {
                let controller = c["controller"].as_str().expect("controller");
                let module = controller.split('/').next().unwrap_or_default().to_owned();
                (module, class_short(c["class"].as_str().expect("class")))
            })
            .collect();
        Loaded {
            tag,
            actions,
            catch_all,
        }
    }

    /// What the router does with `path` at this tag.
    enum Found<'a> {
        Action(&'a Known),
        CatchAll,
        Missing,
    }

    impl Loaded {
        fn lookup(&self, path: &str) -> Found<'_> {
            let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            if segs.len() < 3 {
                return Found::Missing;
            }
            let module = router_camel(segs[0]).to_ascii_lowercase();
            let class = router_camel(segs[1]);
            let action = router_camel(segs[2]);
            let same_controller = |m: &str, c: &str| m.eq_ignore_ascii_case(&module) && c == class;
            if let Some(k) = self.actions.iter().find(|k| {
                same_controller(&k.module, &k.class_short) && k.action.eq_ignore_ascii_case(&action)
            }) {
                return Found::Action(k);
            }
            if self.catch_all.iter().any(|(m, c)| same_controller(m, c)) {
                return Found::CatchAll;
            }
            Found::Missing
        }
    }

    fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                rs_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// The `.segment(..)` calls chained right after a literal's closing `)`.
    fn chained_segments(after: &str) -> usize {
        let Some(mut rest) = after.trim_start().strip_prefix(')') else {
            return 0;
        };
        let mut count = 0;
        while let Some(r) = rest.trim_start().strip_prefix('.') {
            let len = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            let (name, r) = r.split_at(len);
            let Some(r) = r.trim_start().strip_prefix('(') else {
                break;
            };
            let mut depth = 1;
            let Some(end) = r.char_indices().find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            }) else {
                break;
            };
            if name == "segment" {
                count += 1;
            }
            rest = &r[end + 1..];
        }
        count
    }

    /// The identifier at the end of `s`.
    fn trailing_ident(s: &str) -> &str {
        let start = s
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        &s[start..]
    }

    /// `const NAME: &str =` (or `&'static str`) right before a literal: `NAME`.
    fn const_name(before: &str) -> Option<&str> {
        let ty = before.strip_suffix('=')?.trim_end();
        let head = ty
            .strip_suffix("&str")
            .or_else(|| ty.strip_suffix("&'static str"))?
            .trim_end()
            .strip_suffix(':')?
            .trim_end();
        let name = trailing_ident(head);
        let keyword = head[..head.len() - name.len()].trim_end();
        (!name.is_empty() && (keyword.ends_with("const") || keyword.ends_with("static")))
            .then_some(name)
    }

    /// Every endpoint the SDK's product code calls: its path literals (with the method and
    /// segment count where the code around them tells) and the service paths from its API.
    fn sdk_calls() -> Vec<SdkCall> {
        let root = root();
        let mut files = Vec::new();
        rs_files(&root.join("crates/opnsense-api/src"), &mut files);
        let mut calls = Vec::new();
        for file in &files {
            let src = std::fs::read_to_string(file).expect("read source");
            let rel = file
                .strip_prefix(&root)
                .unwrap_or(file)
                .display()
                .to_string();
            for lit in endpoints::scan(&src).into_iter().filter(|l| !l.in_cfg_test) {
                let extra = lit.text.split('/').count() - 3;
                let before = src[..lit.start].trim_end();
                let after = &src[lit.end..];
                let mut push = |method, sent: Option<usize>| {
                    calls.push(SdkCall {
                        path: lit.text.clone(),
                        method,
                        sent: sent.map(|s| s + extra),
                        origin: format!("{rel}:{}", lit.line),
                    });
                };
                if before.ends_with("Request::get(") {
                    push(Some("GET"), Some(chained_segments(after)));
                } else if before.ends_with("Request::post(") {
                    push(Some("POST"), Some(chained_segments(after)));
                } else if let Some(&(_, method, sent)) = before
                    .strip_suffix("Some(")
                    .unwrap_or(before)
                    .trim_end()
                    .strip_suffix(':')
                    .map(trailing_ident)
                    .and_then(|f| RESOURCE_FIELDS.iter().find(|(name, ..)| *name == f))
                {
                    push(Some(method), Some(sent));
                } else if let Some(name) = const_name(before) {
                    let mut used = false;
                    for (ctor, method) in [("Request::get(", "GET"), ("Request::post(", "POST")] {
                        let call = format!("{ctor}{name}");
                        for (at, _) in src.match_indices(&call) {
                            let rest = &src[at + call.len()..];
                            if rest.starts_with(')') {
                                used = true;
                                push(Some(method), Some(chained_segments(rest)));
                            }
                        }
                    }
                    if !used {
                        push(None, None);
                    }
                } else {
                    push(None, None);
                }
            }
        }
        // `{module}/service/{action}` is built with format!: take the paths from the SDK itself.
        let every_action = [
            ServiceAction::Start,
            ServiceAction::Stop,
            ServiceAction::Restart,
            ServiceAction::Reconfigure,
        ];
        let mut from_api = |req: Request, origin: String| {
            calls.push(SdkCall {
                path: req.path.clone(),
                method: Some(req.method.as_str()),
                sent: Some(req.path.split('/').count() - 3),
                origin,
            });
        };
        for &module in ServiceModule::ALL {
            from_api(
                status_request(module),
                format!("services::status_request(ServiceModule::{module:?})"),
            );
            for action in every_action {
                // Exhaustive: a new ServiceAction variant fails to compile here until it is
                // added to `every_action`.
                match action {
                    ServiceAction::Start
                    | ServiceAction::Stop
                    | ServiceAction::Restart
                    | ServiceAction::Reconfigure => {}
                }
                from_api(
                    action_request(module, action),
                    format!("services::action_request(ServiceModule::{module:?}, {action:?})"),
                );
            }
        }
        calls
    }

    /// Everything wrong with `calls` against `inventories`, one line each.
    fn problems(calls: &[SdkCall], inventories: &[Loaded]) -> Vec<String> {
        let mut problems = Vec::new();
        for inv in inventories {
            let tag = inv.tag.as_str();
            for call in calls {
                let (path, origin) = (call.path.as_str(), call.origin.as_str());
                let gate = VERSION_GATED.iter().find(|(p, ..)| *p == path);
                let never = NEVER_SENT.iter().any(|(p, _)| *p == path);
                let expected = gate.is_none_or(|(_, tags, _)| tags.contains(&tag)) && !never;
                let found = inv.lookup(path);
                let known = match (&found, expected) {
                    (Found::Missing, true) => {
                        let what = if origin.starts_with("services::") {
                            "a service module without this action"
                        } else {
                            "no such action"
                        };
                        problems.push(format!("{tag}: {path} ({origin}): {what}"));
                        continue;
                    }
                    (Found::Missing, false) | (Found::CatchAll, true) => continue,
                    (_, false) if never => {
                        problems.push(format!(
                            "{tag}: {path} ({origin}) exists now: drop it from NEVER_SENT"
                        ));
                        continue;
                    }
                    (_, false) => {
                        problems.push(format!(
                            "{tag}: {path} ({origin}) exists although VERSION_GATED says it does not"
                        ));
                        continue;
                    }
                    (Found::Action(k), true) => k,
                };
                if let Some(method) = call.method
                    && (known.method == "POST" || known.method == "GET")
                    && known.method != method
                {
                    problems.push(format!(
                        "{tag}: {path} ({origin}): the SDK sends {method}, {} requires {}",
                        known.path, known.method
                    ));
                }
                if let Some(sent) = call.sent
                    && sent < known.required
                {
                    problems.push(format!(
                        "{tag}: {path} ({origin}): the SDK sends {sent} parameter segment(s), {} requires {}",
                        known.path, known.required
                    ));
                }
            }
        }
        for (path, tags, _) in VERSION_GATED {
            if !calls.iter().any(|c| c.path == *path) {
                problems.push(format!(
                    "VERSION_GATED lists {path}, which the SDK no longer uses"
                ));
            }
            for tag in *tags {
                if !inventories.iter().any(|i| i.tag == *tag) {
                    problems.push(format!("VERSION_GATED names {tag}, which has no inventory"));
                }
            }
        }
        for (path, _) in NEVER_SENT {
            if !calls.iter().any(|c| c.path == *path) {
                problems.push(format!(
                    "NEVER_SENT lists {path}, which the SDK no longer has"
                ));
            }
        }
        problems
    }

    #[test]
    fn every_sdk_path_exists_at_every_inventoried_tag() {
        let inventories = load_inventories();
        let calls = sdk_calls();
        // The scan must see the SDK's endpoints at all (guards against a broken scanner).
        assert!(calls.len() > 50, "only {} SDK calls found", calls.len());
        for expected in [
            "firewall/filter/search_rule",
            "core/backup/download/this",
            "kea/service/reconfigure",
        ] {
            assert!(
                calls.iter().any(|c| c.path == expected),
                "{expected} not found"
            );
        }
        let problems = problems(&calls, &inventories);
        assert!(
            problems.is_empty(),
            "{} problem(s) between the SDK and the opnsense/core inventories:\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }

    #[test]
    fn the_check_catches_missing_paths_wrong_methods_and_gates() {
        let inventories = load_inventories();
        let call = |path: &str, method, sent| SdkCall {
            path: path.to_owned(),
            method,
            sent,
            origin: "test".into(),
        };
        let bad = [
            call("firewall/filter/no_such_action", Some("GET"), Some(0)),
            call("nosuchmodule/service/status", Some("GET"), Some(0)),
            call("firewall/dnat/search_rule", None, None),
            call("unbound/settings/get", Some("POST"), Some(0)),
            call("firewall/filter/set_rule", Some("GET"), Some(1)),
            call("firewall/filter/set_rule", Some("POST"), Some(0)),
            call("firewall/filter/savepoint", Some("POST"), Some(0)),
        ];
        let found = problems(&bad, &inventories);
        for needle in [
            "26.7.2: firewall/filter/no_such_action (test): no such action",
            "26.1.11: nosuchmodule/service/status (test): no such action",
            "26.1.11: firewall/dnat/search_rule (test): no such action",
            "26.7.2: unbound/settings/get (test): the SDK sends POST, unbound/settings/get requires GET",
            "26.1.11: firewall/filter/set_rule (test): the SDK sends GET, firewall/filter/setRule requires POST",
            "firewall/filter/set_rule (test): the SDK sends 0 parameter segment(s), firewall/filter/setRule requires 1",
        ] {
            assert!(
                found.iter().any(|p| p.contains(needle)),
                "{needle:?} not in {found:#?}"
            );
        }
        // The gated path is accepted where it exists and where it is absent.
        assert!(
            !found.iter().any(|p| p.contains("savepoint (test)")),
            "{found:#?}"
        );
        // Router forms: case and underscores in the action, exact CamelCase in the controller.
        let ok = [
            call("firewall/d_nat/searchRule", Some("POST"), Some(0)),
            call("firewall/filter/SEARCH_RULE", None, None),
            call("IDS/settings/listRulesets", None, None),
            call("captive_portal/session/search", None, None),
            call("diagnostics/log/core/firewall", None, None),
        ];
        let found: Vec<String> = problems(&ok, &inventories)
            .into_iter()
            .filter(|p| p.contains("(test)"))
            .collect();
        assert!(found.is_empty(), "{found:#?}");
    }

    /// `RESOURCE_FIELDS` says what `GridDesc`'s builders really send (checked on one grid).
    #[test]
    fn resource_fields_match_the_sdk() {
        use opnsense_api::api::firewall::FILTER_RULES as RES;
        let id = opnsense_api::Uuid::parse("5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01").expect("uuid");
        let item = json!({"description": "x"});
        let toggle = RES.toggle.expect("the filter grid has a toggle");
        let built = [
            (
                "search",
                RES.search,
                RES.search_request(&opnsense_api::SearchQuery::all()),
            ),
            ("get", RES.get, RES.get_request(&id)),
            (
                "add",
                RES.add,
                RES.add_request(item.clone(), None).expect("add"),
            ),
            (
                "set",
                RES.set,
                RES.set_request(&id, item, None).expect("set"),
            ),
            ("del", RES.del, RES.del_request(&id)),
            (
                "toggle",
                toggle,
                RES.toggle_request(&id, None, None).expect("toggle"),
            ),
            ("path", RES.apply.path, RES.apply_request()),
        ];
        for (field, base, req) in built {
            let &(_, method, sent) = RESOURCE_FIELDS
                .iter()
                .find(|(f, ..)| *f == field)
                .expect("field listed");
            let appended = req
                .path
                .strip_prefix(base)
                .expect("path starts with the field");
            assert_eq!(
                (req.method.as_str(), appended.matches('/').count()),
                (method, sent),
                "{field}"
            );
        }
    }

    #[test]
    fn context_rules_for_literals() {
        assert_eq!(chained_segments(").segment(a.as_str()).json(x)"), 1);
        assert_eq!(chained_segments(").text().segment(f(b)).segment(\"1\")"), 2);
        assert_eq!(chained_segments(");\n req.segment(x)"), 0);
        assert_eq!(const_name("pub const NAMES: &str ="), Some("NAMES"));
        assert_eq!(const_name("const A: &'static str ="), Some("A"));
        assert_eq!(const_name("let a: &str ="), None);
        assert_eq!(
            trailing_ident("    search:".trim_end_matches(':')),
            "search"
        );
    }

    const BASE: &str = r#"<?php
namespace OPNsense\Base;
abstract class ApiMutableModelControllerBase extends ApiControllerBase
{
    public function getAction()
    {
        if ($this->request->isGet()) { return ['x' => "}{"]; }
        return [];
    }
    public function setBase($post_field, $path, $uuid, $overlay = null)
    {
        if ($this->request->isPost() && $uuid != null) { return []; }
    }
    protected function hiddenAction() { }
    public function searchBase($path) { return []; }
}
"#;

    const CHILD: &str = r"<?php
/* class Fake extends Nothing { function fakeAction() {} } */
namespace OPNsense\Firewall\Api;

use OPNsense\Base\ApiMutableModelControllerBase as Mutable;
use OPNsense\Core\Backend;

class DNatController extends Mutable
{
    // public function commentedAction() {}
    public function setRuleAction($uuid)
    {
        return $this->setBase('rule', 'rules.rule', $uuid);
    }
    public function searchRuleAction() { return $this->searchBase('rules.rule'); }
    function toggleRuleAction(
        string $uuid,
        $disabled = null,
        array $opts = ['a' => 1, 'b' => [2, 3]],
        ...$rest
    ): array {
        $f = function ($x) use ($uuid) { return $x; };
        $text = <<<EOT
            } public function heredocAction() {
            EOT;
        return parent::setBase('rule', 'rules.rule', $uuid);
    }
    private function secretAction() {}
    public function hiddenAction() {}
    public function __call($name, $args) { return []; }
}
";

    const ROOT: &str = "<?php\nnamespace OPNsense\\Base;\nclass ApiControllerBase { public function initialize() {} }\n";

    fn parsed() -> HashMap<String, PhpClass> {
        let mut classes = HashMap::new();
        for (file, src) in [
            ("Base/ApiMutableModelControllerBase.php", BASE),
            ("Firewall/Api/DNatController.php", CHILD),
            ("Base/ApiControllerBase.php", ROOT),
        ] {
            for c in parse_php(file, src) {
                classes.insert(c.fqcn.to_ascii_lowercase(), c);
            }
        }
        classes
    }

    #[test]
    fn php_classes_methods_and_params() {
        let classes = parsed();
        assert_eq!(classes.len(), 3, "{:?}", classes.keys());
        let child = &classes["opnsense\\firewall\\api\\dnatcontroller"];
        assert_eq!(
            child.parent.as_deref(),
            Some("OPNsense\\Base\\ApiMutableModelControllerBase")
        );
        assert!(!child.is_abstract);
        let names: Vec<&str> = child.methods.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "setRuleAction",
                "searchRuleAction",
                "toggleRuleAction",
                "secretAction",
                "hiddenAction",
                "__call"
            ]
        );
        let toggle = &child.methods[2];
        assert_eq!(toggle.line, 16);
        assert_eq!(
            toggle.params,
            [
                Param {
                    name: "uuid".into(),
                    optional: false
                },
                Param {
                    name: "disabled".into(),
                    optional: true
                },
                Param {
                    name: "opts".into(),
                    optional: true
                },
                Param {
                    name: "rest".into(),
                    optional: true
                },
            ]
        );
        assert!(toggle.public);
        assert!(!child.methods[3].public);
        let base = &classes["opnsense\\base\\apimutablemodelcontrollerbase"];
        assert!(base.is_abstract);
        assert_eq!(
            base.parent.as_deref(),
            Some("OPNsense\\Base\\ApiControllerBase")
        );
    }

    #[test]
    fn actions_inherit_and_methods_follow_delegation() {
        let classes = parsed();
        let child = &classes["opnsense\\firewall\\api\\dnatcontroller"];
        let (chain, missing) = chain(&classes, child);
        assert_eq!(chain.len(), 3);
        assert_eq!(missing, None);
        let mut actions = Vec::new();
        list_actions(&chain, "firewall", "d_nat", &mut actions);
        let got: Vec<(&str, &str)> = actions
            .iter()
            .map(|a| (a.name.as_str(), a.method))
            .collect();
        // secret is private; hidden is public here (most derived wins); get is inherited.
        assert_eq!(
            got,
            [
                ("setRule", "POST"),
                ("searchRule", "ANY"),
                ("toggleRule", "POST"),
                ("hidden", "ANY"),
                ("get", "GET"),
            ]
        );
        assert_eq!(
            actions[0].evidence,
            "delegates to ApiMutableModelControllerBase::setBase, which checks isPost()"
        );
        assert_eq!(actions[4].evidence, "the body checks isGet()");
        assert_eq!(
            actions[4].defined_in,
            "OPNsense\\Base\\ApiMutableModelControllerBase"
        );
        assert!(
            actions[4]
                .source
                .ends_with("ApiMutableModelControllerBase.php:5")
        );
        assert!(find_method(&chain, 0, "__CALL").is_some());
    }

    #[test]
    fn url_forms_round_trip_through_the_router() {
        for (class, seg) in [
            ("DNat", "d_nat"),
            ("Leases4", "leases4"),
            ("Routes", "routes"),
            ("SourceNat", "source_nat"),
            ("IPsec", "i_psec"),
        ] {
            assert_eq!(snake_case(class), seg);
            assert_eq!(router_camel(seg), class);
        }
        assert_eq!(router_camel("dnat"), "Dnat");
        assert_eq!(
            routable_file(
                "src/opnsense/mvc/app/controllers/OPNsense/IDS/Api/SettingsController.php"
            ),
            Some(("IDS", "Settings"))
        );
        assert_eq!(
            routable_file("src/opnsense/mvc/app/controllers/OPNsense/IDS/SettingsController.php"),
            None
        );
        assert_eq!(
            routable_file("src/opnsense/mvc/app/controllers/OPNsense/Base/Api/XController.php"),
            None
        );
    }

    /// A throw-away git repository holding a tiny core tree, tagged `t1`.
    fn fixture_repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("git")
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        for (path, src) in [
            ("OPNsense/Base/ApiMutableModelControllerBase.php", BASE),
            ("OPNsense/Base/ApiControllerBase.php", ROOT),
            ("OPNsense/Firewall/Api/DNatController.php", CHILD),
            (
                "OPNsense/Firewall/Api/BrokenController.php",
                "<?php\nnamespace OPNsense\\Firewall\\Api;\nabstract class BrokenController {}\n",
            ),
        ] {
            let full = dir.path().join(CONTROLLERS).join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(full, src).expect("write");
        }
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "fixture"]);
        git(&["tag", "t1"]);
        dir
    }

    #[test]
    fn generate_reads_a_tag_without_a_work_tree() {
        let repo = fixture_repo();
        let inv = generate(&repo.path().join(".git"), "t1").expect("generate");
        assert_eq!(inv.commit.len(), 40);
        assert_eq!(inv.controllers, 1);
        let paths: Vec<String> = inv
            .actions
            .iter()
            .map(|a| format!("{}/{}/{}", a.module, a.controller, a.name))
            .collect();
        assert_eq!(
            paths,
            [
                "firewall/d_nat/get",
                "firewall/d_nat/hidden",
                "firewall/d_nat/searchRule",
                "firewall/d_nat/setRule",
                "firewall/d_nat/toggleRule"
            ]
        );
        let json: Value = serde_json::from_str(&inv.render()).expect("valid JSON");
        assert_eq!(json["tag"], "t1");
        assert_eq!(json["action_count"], 5);
        assert_eq!(json["catch_all"][0]["controller"], "firewall/d_nat");
        assert_eq!(json["not_routable"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            inv.render(),
            generate(&repo.path().join(".git"), "t1")
                .expect("again")
                .render()
        );
        assert!(generate(&repo.path().join(".git"), "no-such-tag").is_err());
        assert!(generate(&repo.path().join(".git"), "--upload-pack=x").is_err());
    }

    /// Regenerates the committed inventories from an opnsense/core git dir and compares.
    #[test]
    #[ignore = "needs an opnsense/core git dir in OPNSENSE_CORE_GIT"]
    fn committed_inventories_match_the_generator() {
        let core = std::env::var("OPNSENSE_CORE_GIT").expect("OPNSENSE_CORE_GIT");
        for tag in REQUIRED_TAGS {
            let fresh = generate(Path::new(&core), tag).expect("generate").render();
            let file = root()
                .join("xtask")
                .join("inventory")
                .join(format!("{tag}.json"));
            let committed = std::fs::read_to_string(&file).expect("read");
            assert!(
                fresh == committed,
                "{} is stale: regenerate it",
                file.display()
            );
        }
    }
}
