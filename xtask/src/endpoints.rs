//! Finds OPNsense endpoint path literals (`module/controller/action[/...]`) in Rust source.
//!
//! A small Rust lexer, not a regex: comments (line, block, doc) are skipped, string literals of
//! every kind (plain, byte, C, raw with any number of `#`) are read whole, and char literals
//! (`'"'`) are told apart from lifetimes, so a quote inside a comment or a char never starts a
//! string. A literal counts when its whole text has the endpoint shape ([`is_endpoint_shape`]).
//!
//! False positives kept out by the shape: MIME types and `tcp/udp` (two segments), file paths
//! with an extension, a leading `/`, `-` or `.` (`crates/opnsense-api/src`, `/api/x/y`),
//! format templates (`{module}/service/status`). A dot-free relative path of three lower-case
//! segments (`usr/local/etc`) would still match; none is in the tree.
//!
//! Used by the endpoint-inventory test (`inventory.rs`) and meant for a `tidy` check
//! ("no endpoint literal outside crates/opnsense-api").

/// One endpoint literal in a Rust source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointLiteral {
    /// 1-based line of the literal's opening quote.
    pub line: usize,
    /// Byte offset of the literal's first character (its prefix, e.g. `r#`, or opening quote).
    pub start: usize,
    /// Byte offset just past the literal's closing quote (and `#`s).
    pub end: usize,
    /// The literal's text, e.g. `firewall/filter/search_rule`.
    pub text: String,
    /// Inside an item marked `#[cfg(test)]` (or a file marked `#![cfg(test)]`).
    pub in_cfg_test: bool,
}

/// Every endpoint literal outside comments, as `(line, text)`, in source order. Test code is
/// included; use [`scan`] to tell `#[cfg(test)]` items apart.
pub fn endpoint_literals(src: &str) -> Vec<(usize, String)> {
    scan(src).into_iter().map(|l| (l.line, l.text)).collect()
}

/// Every endpoint literal outside comments, with its position and whether it is test code.
pub fn scan(src: &str) -> Vec<EndpointLiteral> {
    let tokens = lex(src);
    let test_ranges = cfg_test_ranges(&tokens);
    let mut line = 1;
    let mut counted = 0;
    let mut out = Vec::new();
    for (i, tok) in tokens.iter().enumerate() {
        let Tok::Str { content } = &tok.kind else {
            continue;
        };
        if !is_endpoint_shape(content) {
            continue;
        }
        line += src[counted..tok.start].matches('\n').count();
        counted = tok.start;
        out.push(EndpointLiteral {
            line,
            start: tok.start,
            end: tok.end,
            text: content.clone(),
            in_cfg_test: test_ranges.iter().any(|r| r.contains(&i)),
        });
    }
    out
}

/// `segment/segment/segment[/...]`: at least three non-empty segments of `[A-Za-z0-9_]`, the
/// first two (module and controller) lower-case and starting with a letter.
pub fn is_endpoint_shape(s: &str) -> bool {
    let segments: Vec<&str> = s.split('/').collect();
    let word =
        |seg: &str| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let lower = |seg: &str| {
        seg.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && seg.bytes().all(|b| !b.is_ascii_uppercase())
    };
    segments.len() >= 3
        && segments.iter().all(|seg| word(seg))
        && segments[..2].iter().all(|seg| lower(seg))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Punct(u8),
    Str { content: String },
}

#[derive(Debug, Clone)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Length in bytes of the UTF-8 character starting with `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// Tokens of Rust source, comments dropped. Unterminated constructs end at the end of input.
fn lex(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let len = bytes.len();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let text = |a: usize, b: usize| src.get(a..b.min(len)).unwrap_or_default().to_owned();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < len {
        let b = bytes[i];
        let start = i;
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'/' && at(i + 1) == b'/' {
            while i < len && bytes[i] != b'\n' {
                i += 1;
            }
        } else if b == b'/' && at(i + 1) == b'*' {
            i = block_comment_end(bytes, i);
        } else if b == b'"' {
            let (content_end, end) = quoted(bytes, i + 1);
            toks.push(Token {
                kind: Tok::Str {
                    content: text(i + 1, content_end),
                },
                start,
                end,
            });
            i = end;
        } else if b == b'\'' {
            // A char literal ('x', '\n', '\u{..}', '"') or a lifetime/label ('a).
            if at(i + 1) == b'\\' {
                let mut j = i + 3;
                while j < len && bytes[j] != b'\'' {
                    j += 1;
                }
                i = j + 1;
            } else if i + 1 < len && at(i + 1 + utf8_len(bytes[i + 1])) == b'\'' {
                i += 2 + utf8_len(bytes[i + 1]);
            } else {
                i += 1;
            }
        } else if is_ident_byte(b) {
            while i < len && is_ident_byte(bytes[i]) {
                i += 1;
            }
            let word = &src[start..i];
            if matches!(word, "r" | "br" | "cr") && matches!(at(i), b'"' | b'#') {
                let mut hashes = 0;
                while at(i + hashes) == b'#' {
                    hashes += 1;
                }
                if at(i + hashes) == b'"' {
                    let open = i + hashes + 1;
                    let (content_end, end) = raw_quoted(bytes, open, hashes);
                    toks.push(Token {
                        kind: Tok::Str {
                            content: text(open, content_end),
                        },
                        start,
                        end,
                    });
                    i = end;
                    continue;
                }
                // `r#ident`: a raw identifier; the `#` is lexed as punctuation next.
            }
            toks.push(Token {
                kind: Tok::Ident(word.to_owned()),
                start,
                end: i,
            });
        } else {
            toks.push(Token {
                kind: Tok::Punct(b),
                start,
                end: i + 1,
            });
            i += 1;
        }
    }
    toks
}

/// The index just past the block comment that opens at `start` (`/*`): block comments nest
/// in Rust; an unclosed one runs to the end.
pub(crate) fn block_comment_end(bytes: &[u8], start: usize) -> usize {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let (mut depth, mut i) = (0usize, start);
    while i < bytes.len() {
        if bytes[i] == b'/' && at(i + 1) == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && at(i + 1) == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                break;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// From just after an opening `"`: (offset of the closing quote, offset just past it).
fn quoted(s: &[u8], mut i: usize) -> (usize, usize) {
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return (i, i + 1),
            _ => i += 1,
        }
    }
    (s.len(), s.len())
}

/// From just after the opening `"` of a raw string with `hashes` `#`s.
fn raw_quoted(s: &[u8], mut i: usize, hashes: usize) -> (usize, usize) {
    while i < s.len() {
        if s[i] == b'"' && (1..=hashes).all(|k| s.get(i + k) == Some(&b'#')) {
            return (i, i + 1 + hashes);
        }
        i += 1;
    }
    (s.len(), s.len())
}

/// Token index ranges covered by `#[cfg(test)]` items (attribute included), or everything
/// after a `#![cfg(test)]` inner attribute.
fn cfg_test_ranges(toks: &[Token]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let Some((inner, after)) = cfg_test_attr(toks, i) else {
            i += 1;
            continue;
        };
        if inner {
            ranges.push(i..toks.len());
            break;
        }
        let end = item_end(toks, after);
        ranges.push(i..end);
        i = end;
    }
    ranges
}

/// `#[cfg(test)]` (or `#![cfg(test)]`) at `i`: (is inner, index after the attribute).
fn cfg_test_attr(toks: &[Token], i: usize) -> Option<(bool, usize)> {
    let p = |k: usize, c: u8| toks.get(k).is_some_and(|t| t.kind == Tok::Punct(c));
    let w = |k: usize, s: &str| {
        toks.get(k)
            .is_some_and(|t| matches!(&t.kind, Tok::Ident(x) if x == s))
    };
    if !p(i, b'#') {
        return None;
    }
    let inner = p(i + 1, b'!');
    let j = i + 1 + usize::from(inner);
    let matched = p(j, b'[')
        && w(j + 1, "cfg")
        && p(j + 2, b'(')
        && w(j + 3, "test")
        && p(j + 4, b')')
        && p(j + 5, b']');
    matched.then_some((inner, j + 6))
}

/// The index just past the item starting at `i`: its first `;` outside brackets, or the `}`
/// closing its first top-level `{` (further attributes are part of the item).
fn item_end(toks: &[Token], i: usize) -> usize {
    let mut depth = 0usize;
    let mut k = i;
    while k < toks.len() {
        match toks[k].kind {
            Tok::Punct(b'(' | b'[' | b'{') => depth += 1,
            Tok::Punct(b')' | b']') => depth = depth.saturating_sub(1),
            Tok::Punct(b'}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k + 1;
                }
            }
            Tok::Punct(b';') if depth == 0 => return k + 1,
            _ => {}
        }
        k += 1;
    }
    toks.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        for yes in [
            "firewall/filter/search_rule",
            "kea/dhcpv4/searchReservation",
            "core/backup/download/this",
            "diagnostics/interface/getArp",
        ] {
            assert!(is_endpoint_shape(yes), "{yes}");
        }
        for no in [
            "application/json",
            "tcp/udp",
            "/api/core/system",
            "crates/opnsense-api/src",
            "xtask/inventory/26.1.11.json",
            "{module}/service/status",
            "Firewall/filter/x",
            "firewall/Filter/x",
            "firewall//x",
            "firewall/filter/",
            "1core/system/status",
            "a b/c/d",
        ] {
            assert!(!is_endpoint_shape(no), "{no}");
        }
    }

    #[test]
    fn comments_are_skipped_and_lines_counted() {
        let src = r##"//! `core/system/status` in a doc comment
/// "firewall/filter/get_rule" in a doc comment
const A: &str = "core/system/status"; // "x/y/z" after code
/* "a/b/c" /* nested "d/e/f" */ still "g/h/i" */
fn f() -> char { '"' } const B: &str = "kea/leases4/search";
fn g<'a>(x: &'a str) -> &'a str { x } const C: &str = r#"ids/settings/listRulesets"#;
const D: &[u8] = b"routes/routes/get"; const E: &str = r"x/y/z_raw";
const F: char = '\''; const G: &str = "a\"/b/c"; const H: &str = "unbound/settings/get";
let r#type = 1; const I: &str = "core/firmware/check";
"##;
        assert_eq!(
            endpoint_literals(src),
            vec![
                (3, "core/system/status".to_owned()),
                (5, "kea/leases4/search".to_owned()),
                (6, "ids/settings/listRulesets".to_owned()),
                (7, "routes/routes/get".to_owned()),
                (7, "x/y/z_raw".to_owned()),
                (8, "unbound/settings/get".to_owned()),
                (9, "core/firmware/check".to_owned()),
            ]
        );
    }

    #[test]
    fn cfg_test_items_are_marked() {
        let src = r#"
const A: &str = "a/b/one";
#[cfg(test)]
mod tests {
    fn t() { let x = "a/b/two"; }
}
const B: &str = "a/b/three";
#[cfg(test)]
#[allow(dead_code)]
const C: &str = "a/b/four";
const D: &str = "a/b/five";
"#;
        let got: Vec<(String, bool)> = scan(src)
            .into_iter()
            .map(|l| (l.text, l.in_cfg_test))
            .collect();
        let want = [
            ("a/b/one", false),
            ("a/b/two", true),
            ("a/b/three", false),
            ("a/b/four", true),
            ("a/b/five", false),
        ];
        assert_eq!(got, want.map(|(s, t)| (s.to_owned(), t)).to_vec(), "{src}");
        assert!(
            scan("#![cfg(test)]\nconst A: &str = \"a/b/c\";")
                .iter()
                .all(|l| l.in_cfg_test)
        );
    }

    #[test]
    fn offsets_point_at_the_literal() {
        let src = "let r = Request::get(\"core/system/status\").segment(x);";
        let lit = &scan(src)[0];
        assert!(src[..lit.start].ends_with("Request::get("));
        assert!(src[lit.end..].starts_with(").segment("));
    }
}
