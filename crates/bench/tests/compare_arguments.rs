//! `compare` starts nothing on a command line it does not understand: `--help` prints the
//! usage, and an unknown flag, system or scenario is an error that names it.

use std::process::{Command, Output};

fn compare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(args)
        .env("LIVEHELP_REPO", "/nonexistent")
        .output()
        .expect("compare runs")
}

#[test]
fn help_prints_the_usage_and_runs_nothing() {
    let out = compare(&["--help"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("compare [--quick]"), "{stdout}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unknown_flag_system_or_scenario_is_refused_by_name() {
    for (args, named) in [
        (&["--quick", "--rate", "5000"][..], "\"--rate\""),
        (
            &["--systems", "livehelp,pusher"][..],
            "unknown system pusher",
        ),
        (
            &["--scenarios", "chat,latency"][..],
            "unknown scenario latency",
        ),
        (&["--runs", "three"][..], "--runs \"three\" is not a count"),
        (&["--rates"][..], "--rates needs a value"),
    ] {
        let out = compare(args);
        assert!(!out.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}
