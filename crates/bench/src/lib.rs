//! The benchmark tool: livehelp side by side with the peers a user would pick instead
//! (issue 8). `bench/run` builds and starts everything; the `compare` binary drives the
//! scenarios and writes `docs/benchmarks.md` and `bench/results/`.

pub mod client;
pub mod livehelp;
pub mod load;
pub mod report;
pub mod scenarios;
pub mod systems;
pub mod voice;

use std::path::Path;

/// `nproc` and the CPU model, for the report's header.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cpus} × {model}")
}

/// Replaces (or appends) the section under `heading` in `docs/benchmarks.md`.
pub fn write_section(repo: &Path, heading: &str, body: &str) -> std::io::Result<()> {
    let path = repo.join("docs/benchmarks.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\nFigures are measured, not promised: each section says how to rerun it.\n".to_owned());
    let marker = format!("## {heading}\n");
    let section = format!("{marker}\n{body}\n");
    let new = match old.find(&marker) {
        Some(start) => {
            let rest = &old[start + marker.len()..];
            let end = rest
                .find("\n## ")
                .map_or(old.len(), |i| start + marker.len() + i + 1);
            format!("{}{section}{}", &old[..start], &old[end..])
        }
        None => format!("{}\n\n{section}", old.trim_end()),
    };
    std::fs::write(path, new)
}
