//! Build script: records the git commit and the build date for `opnsense-mcp --version`.
//!
//! Both fall back to `unknown` when they cannot be known: a build from a source tarball (no
//! `.git`, or a `.git` of some other project around the unpacked directory) has no commit.
//! `SOURCE_DATE_EPOCH` (reproducible builds) sets the date and `BUILD_GIT_COMMIT_OPNSENSE_MCP` the
//! commit when given.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The commit, when this crate's own manifest is tracked by the repository around it (so a
/// tarball unpacked inside another checkout does not report that checkout's commit).
fn commit(dir: &Path) -> Option<String> {
    git(dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    let commit = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    if let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) {
        let git_dir = Path::new(&git_dir);
        println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
        if let Some(common) = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        ) {
            println!(
                "cargo:rerun-if-changed={}",
                Path::new(&common).join("refs").display()
            );
            println!(
                "cargo:rerun-if-changed={}",
                Path::new(&common).join("packed-refs").display()
            );
        }
    }
    Some(commit)
}

fn build_date() -> String {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
        });
    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map_or_else(
            || "unknown".to_owned(),
            |t| {
                let month = u8::from(t.month());
                format!("{:04}-{month:02}-{:02}", t.year(), t.day())
            },
        )
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| ".".into(), std::path::PathBuf::from);
    // A build without git (a container build, a packager) may say which commit it is.
    println!("cargo:rerun-if-env-changed=BUILD_GIT_COMMIT_OPNSENSE_MCP");
    let given = std::env::var("BUILD_GIT_COMMIT_OPNSENSE_MCP")
        .ok()
        .filter(|c| !c.trim().is_empty() && c.trim() != "unknown");
    let commit = given
        .or_else(|| commit(&dir))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=BUILD_GIT_COMMIT_OPNSENSE_MCP={commit}");
    println!("cargo:rustc-env=BUILD_DATE_OPNSENSE_MCP={}", build_date());
}
